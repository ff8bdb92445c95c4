/// What the app said about itself over sd_notify (`VIGIL_NOTIFY=true`), as readiness, startup and
/// liveness facts. Pure: times are monotonic milliseconds passed in.
public struct NotifyFact: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// Started, no `READY=1` yet.
        case waiting
        case ready
        /// `RELOADING=1`, until the next `READY=1`.
        case reloading
    }

    public private(set) var phase: Phase = .waiting
    /// `READY=1` was heard since the app (re)started: startup is complete.
    public private(set) var announcedReady = false
    /// The last `STATUS=`.
    public private(set) var status: String? = nil
    /// `VIGIL_NOTIFY_WATCHDOG`; nil: no watchdog.
    public let watchdog: Duration?
    /// When liveness fails without a ping (or an `EXTEND_TIMEOUT_USEC`).
    public private(set) var watchdogDeadline: Int64? = nil
    /// `WATCHDOG=trigger`: failed until the app restarts.
    public private(set) var triggered = false

    public init(watchdog: Duration?) { self.watchdog = watchdog }

    /// The app (re)started at `now`: waiting for READY=1, the watchdog counting from now.
    mutating func started(at now: Int64) {
        phase = .waiting
        announcedReady = false
        triggered = false
        watchdogDeadline = watchdog.map { now + $0.milliseconds }
    }

    /// Applies one message; returns whether it said STOPPING=1.
    mutating func apply(_ message: NotifyMessage, at now: Int64) -> Bool {
        if message.reloading { phase = .reloading }
        if message.ready {
            phase = .ready
            announcedReady = true
        }
        if let text = message.status { status = text }
        if let watchdog, message.watchdogPing, !triggered { watchdogDeadline = now + watchdog.milliseconds }
        if let extend = message.extendTimeout, let deadline = watchdogDeadline, !triggered {
            watchdogDeadline = max(deadline, now + extend.milliseconds)
        }
        if message.watchdogTrigger && watchdog != nil { triggered = true }
        return message.stopping
    }

    public var readyReason: String {
        phase == .reloading ? "reloading (RELOADING=1)" : "waiting for READY=1"
    }

    public func watchdogPasses(at now: Int64) -> Bool {
        guard watchdog != nil else { return true }
        guard !triggered else { return false }
        return watchdogDeadline.map { now < $0 } ?? true
    }

    public func watchdogReason(at now: Int64) -> String {
        if triggered { return "the app asked for it (WATCHDOG=trigger)" }
        let window = watchdog.map(DurationText.format) ?? "?"
        return "no WATCHDOG=1 within \(window)"
    }
}
