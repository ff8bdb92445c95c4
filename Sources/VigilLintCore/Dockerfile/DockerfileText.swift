/// The text layer of the Dockerfile parser: instructions, words, substitution.
extension DockerfileParser {
    /// One instruction per entry: continuation lines joined, comments and heredoc bodies dropped.
    static func instructions(_ text: String) -> [Instruction] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        var escape: Character = "\\"
        var index = 0
        // Parser directives: `# name=value` lines before anything else.
        while index < lines.count, lines[index].trimmingSpaces().hasPrefix("#") {
            let body = lines[index].trimmingSpaces().dropFirst().trimmingSpaces().lowercased()
            guard body.contains("=") else { break }
            if body.hasPrefix("escape="), let last = body.last { escape = last == "`" ? "`" : "\\" }
            index += 1
        }
        var result: [Instruction] = []
        while index < lines.count {
            let first = lines[index].trimmingSpaces()
            let startLine = index + 1
            index += 1
            if first.isEmpty || first.hasPrefix("#") { continue }
            var joined = ""
            var line = first
            while true {
                if line.last == escape {
                    joined += line.dropLast() + " "
                    // Comment lines inside a continuation are removed, as Docker does.
                    while index < lines.count, lines[index].trimmingSpaces().hasPrefix("#") { index += 1 }
                    guard index < lines.count else { break }
                    line = lines[index].trimmingSpaces()
                    index += 1
                } else {
                    joined += line
                    break
                }
            }
            let keyword = String(joined.prefix { $0 != " " && $0 != "\t" }).uppercased()
            let arguments = String(joined.dropFirst(keyword.count)).trimmingSpaces()
            for delimiter in ["RUN", "COPY", "ADD"].contains(keyword) ? heredocDelimiters(arguments) : [] {
                while index < lines.count {
                    let body = lines[index]
                    index += 1
                    if body == delimiter || body.drop(while: { $0 == "\t" }) == delimiter { break }
                }
            }
            let column = (lines[startLine - 1].prefix { $0 == " " || $0 == "\t" }).count + 1
            result.append(
                Instruction(
                    keyword: keyword, arguments: arguments, mark: SourceMark(line: startLine, column: column)))
        }
        return result
    }

    /// `<<EOF`, `<<-EOF`, `<<"EOF"`: the words that end each heredoc started on the line.
    static func heredocDelimiters(_ arguments: String) -> [String] {
        var delimiters: [String] = []
        var rest = Substring(arguments)
        while let range = rest.firstRange(of: "<<") {
            rest = rest[range.upperBound...]
            if rest.first == "-" { rest = rest.dropFirst() }
            var word = rest.prefix { !" \t;&|>".contains($0) }
            rest = rest.dropFirst(word.count)
            word = word.drop { $0 == "\"" || $0 == "'" }
            while word.last == "\"" || word.last == "'" { word = word.dropLast() }
            if !word.isEmpty, word.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                delimiters.append(String(word))
            }
        }
        return delimiters
    }

    /// `NAME=value` → (NAME, value); `NAME` → (NAME, nil).
    static func splitAssignment(_ word: String) -> (String, String?) {
        guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
        return (String(word[..<equals]), String(word[word.index(after: equals)...]))
    }

    /// `ENV A=1 B="two words"`, or the legacy `ENV NAME the rest of the line`.
    static func environmentPairs(_ arguments: String) -> [(String, String)] {
        let words = CommandWords.split(arguments)
        guard let first = words.first else { return [] }
        if !first.contains("=") {
            let rest = arguments.dropFirst(first.count).trimmingSpaces()
            return [(first, CommandWords.split(rest).joined(separator: " "))]
        }
        return words.compactMap { word in
            let (name, value) = splitAssignment(word)
            return value.map { (name, $0) }
        }
    }

    /// `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME:+alternative}` from VARIABLES (an ARG
    /// without a default holds nil). nil when a name cannot be resolved.
    static func substitute(_ text: String, _ variables: [String: String?]) -> String? {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            rest = rest[rest.index(after: dollar)...]
            var name: Substring
            var modifier: (String, String)? = nil
            if rest.first == "{" {
                guard let close = rest.firstIndex(of: "}") else { return nil }
                let inner = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
                if let colon = inner.firstIndex(of: ":") {
                    name = inner[..<colon]
                    let operation = inner[inner.index(after: colon)...]
                    modifier = (String(operation.prefix(1)), String(operation.dropFirst()))
                } else {
                    name = inner
                }
            } else {
                name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                rest = rest.dropFirst(name.count)
                if name.isEmpty {
                    result += "$"
                    continue
                }
            }
            let value = variables[String(name)] ?? nil
            switch modifier {
            case ("-", let fallback)?: result += value.flatMap { $0.isEmpty ? nil : $0 } ?? fallback
            case ("+", let alternative)?: result += (value?.isEmpty ?? true) ? "" : alternative
            default:
                guard let value else { return nil }
                result += value
            }
        }
        return result + rest
    }

    /// `HEALTHCHECK [--interval=…] CMD …` → the command; `HEALTHCHECK NONE` → nil.
    static func healthcheck(_ arguments: String) -> DockerCommand? {
        var rest = Substring(arguments)
        while rest.hasPrefix("--") {
            let option = rest.prefix { $0 != " " && $0 != "\t" }
            rest = rest.dropFirst(option.count).drop { $0 == " " || $0 == "\t" }
        }
        guard rest.uppercased().hasPrefix("CMD") else { return nil }
        return DockerCommand(rest.dropFirst(3).trimmingSpaces())
    }
}
