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

    public var description: String {
        var line = variable
        if let value { line += "=\"\(value)\"" }
        line += ": \(message)"
        if let example { line += (message.hasSuffix("?") ? " example: " : "; example: ") + example }
        return line
    }
}

/// The outcome of reading the environment: a configuration, or every problem at once.
public struct ParsedConfiguration: Sendable {
    public var configuration: Configuration
    public var effective: [EffectiveSetting]
    public var problems: [ConfigurationProblem]
    public var warnings: [String]
}
