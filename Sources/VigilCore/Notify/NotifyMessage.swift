/// One sd_notify datagram: newline-separated `KEY=VALUE` assignments (sd_notify(3)). Unknown keys
/// and malformed lines are ignored, as systemd does; the last assignment of a key wins.
public struct NotifyMessage: Sendable, Equatable {
    public var ready = false
    public var reloading = false
    public var stopping = false
    /// `WATCHDOG=1`: a keep-alive ping.
    public var watchdogPing = false
    /// `WATCHDOG=trigger`: the app asks to be treated as hung.
    public var watchdogTrigger = false
    public var status: String? = nil
    public var extendTimeout: Duration? = nil
    public var mainPid: Int32? = nil

    public init() {}

    /// The longest `STATUS=` kept (longer ones are cut), so a log line stays one line.
    public static let statusLimit = 256

    public static func parse(_ bytes: some Collection<UInt8>) -> NotifyMessage {
        var message = NotifyMessage()
        for line in bytes.split(separator: 10, omittingEmptySubsequences: true) {
            guard let equals = line.firstIndex(of: 61) else { continue }
            let key = String(decoding: line[line.startIndex..<equals], as: UTF8.self)
            let value = String(decoding: line[line.index(after: equals)...], as: UTF8.self)
            switch key {
            case "READY": message.ready = value == "1"
            case "RELOADING": message.reloading = value == "1"
            case "STOPPING": message.stopping = value == "1"
            case "WATCHDOG":
                if value == "1" { message.watchdogPing = true }
                if value == "trigger" { message.watchdogTrigger = true }
            case "STATUS":
                message.status = LineText.oneLine(value, limit: statusLimit)
            case "EXTEND_TIMEOUT_USEC":
                if let micros = UInt64(value), micros <= 8_760 * 3_600_000_000 {
                    message.extendTimeout = .microseconds(Int64(micros))
                }
            case "MAINPID":
                if let pid = Int32(value), pid > 0 { message.mainPid = pid }
            default:
                continue
            }
        }
        return message
    }
}
