/// One thing wrong with the environment. `description` is the line the user sees.
public struct ConfigurationProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var variable: String
    /// The offending value, or nil when it must not be shown (secrets, unknown variables).
    public var value: String?
    public var message: String
    /// A good setting, `NAME=value`.
    public var example: String?

    public init(variable: String, value: String?, message: String, example: String?) {
        self.variable = variable
        self.value = value
        self.message = message
        self.example = example
    }

    /// Values longer than this (in characters) are shown by their start and their length.
    static let shownValueLimit = 64

    public var description: String {
        var line = variable
        if let value {
            let (start, cut) = Self.shown(value)
            line += "=\"\(start)\(cut ? "…" : "")\""
            if cut { line += " (\(value.utf8.count) bytes)" }
        }
        line += ": \(message)"
        if let example { line += (message.hasSuffix("?") ? " example: " : "; example: ") + example }
        return line
    }

    /// The value's start as one line, control characters escaped; whether it was cut.
    static func shown(_ value: String) -> (String, cut: Bool) {
        var text = ""
        var count = 0
        for scalar in value.unicodeScalars {
            guard count < shownValueLimit else { return (text, true) }
            count += 1
            switch scalar.value {
            case 0..<32, 127: text += "\\u{\(String(scalar.value, radix: 16))}"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return (text, false)
    }
}

/// The outcome of reading the environment: a configuration, or every problem at once.
public struct ParsedConfiguration: Sendable {
    public var configuration: Configuration
    public var effective: [EffectiveSetting]
    public var problems: [ConfigurationProblem]
    public var warnings: [String]
}
