import Logging
import VigilCore
import VigilSystem

/// vigil's own log lines on stderr, one write per line so they never interleave mid-line with the
/// app's output (which vigil never touches). Text lines start with `vigil: ` to be told apart.
public struct VigilLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let format: LogFormat

    public init(format: LogFormat, level: LogLevelSetting) {
        self.format = format
        switch level {
        case .debug: logLevel = .debug
        case .info: logLevel = .info
        case .warn: logLevel = .warning
        case .error: logLevel = .error
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }
        let level = Self.name(event.level)
        var line: String
        switch format {
        case .text:
            line = "vigil: \(level): \(event.message)"
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        case .json:
            var members: [(String, JSONValue)] = [
                ("time", .string(Timestamps.rfc3339(millisecondsSinceEpoch: Clock.wallMilliseconds))),
                ("level", .string(level)),
                ("logger", .string("vigil")),
                ("message", .string("\(event.message)")),
            ]
            if !fields.isEmpty {
                members.append(
                    ("fields", .object(fields.sorted(by: { $0.key < $1.key }).map { ($0.key, .string("\($0.value)")) }))
                )
            }
            line = JSONValue.object(members).rendered
        }
        Files.writeAll(2, Array((line + "\n").utf8))
    }

    static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "debug"
        case .info, .notice: "info"
        case .warning: "warn"
        case .error, .critical: "error"
        }
    }
}
