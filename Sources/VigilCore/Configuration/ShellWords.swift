/// Splits `exec:` check commands into words the way a POSIX shell would split a simple command:
/// single quotes, double quotes with `\"` `\\` `\$` escapes, backslash escapes outside quotes.
/// No expansion of any kind happens; a user who wants a shell writes `sh -c '…'`.
public enum ShellWords {
    public enum SplitError: Error, Equatable {
        case unterminatedQuote
        case trailingBackslash
    }

    public static func split(_ text: String) throws(SplitError) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n":
                if inWord {
                    words.append(current)
                    current = ""
                    inWord = false
                }
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" {
                        closed = true
                        break
                    }
                    current.append(next)
                }
                if !closed { throw .unterminatedQuote }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" {
                        closed = true
                        break
                    }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { throw .unterminatedQuote }
                        if escaped != "\"" && escaped != "\\" && escaped != "$" && escaped != "`" {
                            current.append("\\")
                        }
                        current.append(escaped)
                    } else {
                        current.append(next)
                    }
                }
                if !closed { throw .unterminatedQuote }
            case "\\":
                guard let escaped = iterator.next() else { throw .trailingBackslash }
                inWord = true
                current.append(escaped)
            default:
                inWord = true
                current.append(character)
            }
        }
        if inWord { words.append(current) }
        return words
    }
}
