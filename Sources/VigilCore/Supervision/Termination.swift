/// How a child ended, and the exit code vigil reports for it (the shell's convention).
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    case exited(code: Int32)
    case signaled(signal: Int32)
    /// posix_spawn failed; carries the errno.
    case spawnFailed(errno: Int32)

    public var exitCode: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        // ENOENT, ENOTDIR: not found; anything else (EACCES, ENOEXEC, EISDIR…): not executable.
        case .spawnFailed(let errno): errno == 2 || errno == 20 ? 127 : 126
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with code \(code)"
        case .signaled(let signal): "killed by \(SignalNames.name(signal))"
        case .spawnFailed(let errno): errno == 2 || errno == 20 ? "not found" : "not executable"
        }
    }

    public var isSuccess: Bool { self == .exited(code: 0) }
}

/// Exponential restart backoff: 1s, 2s, 4s … up to a maximum; reset after a healthy run.
public struct RestartBackoff: Sendable, Equatable {
    public static let initial: Duration = .seconds(1)
    /// A run that was ready at least this long resets the backoff.
    public static let healthyRunResetsAfter: Duration = .seconds(10)

    public let maximum: Duration
    public private(set) var next: Duration = RestartBackoff.initial

    public init(maximum: Duration) { self.maximum = maximum }

    /// The delay before the next start, and the one after it doubled.
    public mutating func take() -> Duration {
        let delay = min(next, maximum)
        next = min(next * 2, maximum)
        return delay
    }

    public mutating func reset() { next = RestartBackoff.initial }
}

/// At most `limit` in-place restarts within a sliding `window` (Nomad's attempts/interval,
/// systemd's StartLimitBurst); a limit of 0 allows any number.
public struct RestartBudget: Sendable, Equatable {
    public let limit: Int
    public let window: Duration
    /// When the restarts inside the window were granted (monotonic milliseconds).
    private var granted: [Int64] = []

    public init(limit: Int, window: Duration) {
        self.limit = limit
        self.window = window
    }

    /// Grants one restart at `now`, or refuses it when the window is full.
    public mutating func grant(at now: Int64) -> Bool {
        guard limit > 0 else { return true }
        let windowStart = now &- window.milliseconds
        granted.removeAll { $0 <= windowStart }
        guard granted.count < limit else { return false }
        granted.append(now)
        return true
    }

    /// `5 restarts within 5m`, for the log.
    public var summary: String {
        "\(limit) restart\(limit == 1 ? "" : "s") within \(DurationText.format(window))"
    }
}
