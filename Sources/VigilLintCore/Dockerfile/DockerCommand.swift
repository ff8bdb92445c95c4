import VigilCore

/// ENTRYPOINT, CMD or HEALTHCHECK CMD: exec form (a JSON array) or shell form (run by `/bin/sh -c`).
public enum DockerCommand: Sendable, Equatable {
    case exec([String])
    case shell(String)

    /// Docker's rule: an argument that parses as a JSON array of strings is exec form, anything
    /// else is shell form.
    public init(_ text: String) {
        if let words = JSONStringArray.parse(text) { self = .exec(words) } else { self = .shell(text) }
    }

    /// The words as the process sees them: for shell form, `/bin/sh -c TEXT`.
    public var argv: [String] {
        switch self {
        case .exec(let words): words
        case .shell(let text): ["/bin/sh", "-c", text]
        }
    }
}

/// Commands as vigil-lint reads them: does this run vigil, and is a shell in front of it?
public enum CommandWords {
    /// Shells that `-c` a script.
    static let shells: Set<String> = ["sh", "bash", "ash", "dash", "zsh", "busybox"]

    /// Whether a word is the vigil binary (`vigil`, `/usr/local/bin/vigil`).
    public static func isVigil(_ word: String) -> Bool { basename(word) == "vigil" }

    /// The words of a shell script, split like a shell would (no expansion); spaces on failure.
    public static func split(_ script: String) -> [String] {
        (try? ShellWords.split(script)) ?? script.split(separator: " ").map(String.init)
    }

    /// The script when `words` is `sh -c SCRIPT` (or another shell, or `env … sh -c`).
    public static func shellScript(_ words: [String]) -> String? {
        var rest = words[...]
        if let first = rest.first, basename(first) == "env" { rest = rest.dropFirst().drop { $0.contains("=") } }
        guard let shell = rest.first, shells.contains(basename(shell)) else { return nil }
        rest = rest.dropFirst()
        if basename(shell) == "busybox", rest.first.map({ shells.contains($0) }) == true { rest = rest.dropFirst() }
        guard let flag = rest.first, flag.hasPrefix("-"), flag.contains("c") else { return nil }
        return rest.dropFirst().first
    }

    /// Whether vigil appears among the words, directly or in a shell script.
    public static func namesVigil(_ words: [String]) -> Bool {
        if words.contains(where: isVigil) { return true }
        if let script = shellScript(words) { return split(script).contains(where: isVigil) }
        return false
    }

    /// `sh -c "… vigil …"` without `exec vigil`: the shell is PID 1 and vigil its child, so
    /// SIGTERM reaches the shell, which neither forwards it nor reaps.
    public static func shellWrapsVigil(_ words: [String]) -> Bool {
        guard let script = shellScript(words) else { return false }
        let scriptWords = split(script)
        guard let index = scriptWords.firstIndex(where: isVigil) else { return false }
        return scriptWords[..<index].last != "exec"
    }
}

/// A JSON array of strings, the exec form of Dockerfile instructions. Nothing else of JSON.
enum JSONStringArray {
    static func parse(_ text: String) -> [String]? {
        var scalars = Array(text.unicodeScalars)[...]
        func skipSpace() {
            while let c = scalars.first, c == " " || c == "\t" || c == "\n" || c == "\r" { scalars.removeFirst() }
        }
        skipSpace()
        guard scalars.popFirst() == "[" else { return nil }
        var result: [String] = []
        skipSpace()
        if scalars.first == "]" {
            scalars.removeFirst()
            skipSpace()
            return scalars.isEmpty ? [] : nil
        }
        while true {
            skipSpace()
            guard scalars.popFirst() == "\"", let string = parseString(&scalars) else { return nil }
            result.append(string)
            skipSpace()
            switch scalars.popFirst() {
            case ",": continue
            case "]":
                skipSpace()
                return scalars.isEmpty ? result : nil
            default: return nil
            }
        }
    }

    /// After the opening quote: the string's text up to its closing quote.
    static func parseString(_ scalars: inout ArraySlice<Unicode.Scalar>) -> String? {
        var out = String.UnicodeScalarView()
        while let c = scalars.popFirst() {
            switch c {
            case "\"": return String(out)
            case "\\":
                guard let escaped = scalars.popFirst() else { return nil }
                switch escaped {
                case "\"", "\\", "/": out.append(escaped)
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "u":
                    let hex = String(String.UnicodeScalarView(scalars.prefix(4)))
                    guard hex.count == 4, let value = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(value)
                    else { return nil }
                    scalars.removeFirst(4)
                    out.append(scalar)
                default: return nil
                }
            default: out.append(c)
            }
        }
        return nil
    }
}
