/// A point in time as the health model sees it: a monotonic reading for durations and ordering,
/// and the wall-clock reading to show people.
public struct Moment: Sendable, Equatable {
    public var monotonicMilliseconds: Int64
    public var wallMilliseconds: Int64

    public init(monotonicMilliseconds: Int64, wallMilliseconds: Int64) {
        self.monotonicMilliseconds = monotonicMilliseconds
        self.wallMilliseconds = wallMilliseconds
    }
}

public enum CheckStatus: String, Sendable {
    /// Not yet decided: counts as failing for startup and readiness, passing for liveness (as kubelet).
    case pending
    case passing
    case failing
}

/// What one run of a check found.
public struct CheckResult: Sendable, Equatable {
    public var passed: Bool
    /// Why it failed, or what it saw when it passed (`HTTP 200`).
    public var message: String
    public var duration: Duration

    public init(passed: Bool, message: String, duration: Duration) {
        self.passed = passed
        self.message = message
        self.duration = duration
    }
}

public struct CheckState: Sendable {
    public let spec: CheckSpec
    public internal(set) var status: CheckStatus = .pending
    public internal(set) var consecutiveSuccesses = 0
    public internal(set) var consecutiveFailures = 0
    public internal(set) var lastMessage: String? = nil
    public internal(set) var lastFailure: String? = nil
    public internal(set) var lastDuration: Duration? = nil
    public internal(set) var lastTransition: Moment
    public internal(set) var runs = 0
    public internal(set) var failedRuns = 0
    /// Whether the check has been passing at least once since the app (re)started.
    public internal(set) var hasPassed = false

    init(spec: CheckSpec, at moment: Moment) {
        self.spec = spec
        self.lastTransition = moment
    }

    /// The state for a new run of the app: pending again, with the counters kept.
    func restarted(at moment: Moment) -> CheckState {
        var fresh = CheckState(spec: spec, at: moment)
        fresh.runs = runs
        fresh.failedRuns = failedRuns
        return fresh
    }

    /// Applies one result; returns the previous status when the status changed.
    mutating func record(_ result: CheckResult, at moment: Moment) -> CheckStatus? {
        runs += 1
        lastMessage = result.message
        lastDuration = result.duration
        if result.passed {
            consecutiveSuccesses += 1
            consecutiveFailures = 0
        } else {
            failedRuns += 1
            lastFailure = result.message
            consecutiveFailures += 1
            consecutiveSuccesses = 0
        }
        let previous = status
        switch status {
        case .pending:
            if consecutiveSuccesses >= spec.successes {
                status = .passing
            } else if consecutiveFailures >= spec.failures {
                status = .failing
            }
        case .passing:
            if consecutiveFailures >= spec.failures { status = .failing }
        case .failing:
            if consecutiveSuccesses >= spec.successes { status = .passing }
        }
        guard status != previous else { return nil }
        if status == .passing { hasPassed = true }
        lastTransition = moment
        return previous
    }

    /// Whether this check lets `probe` pass right now.
    func allows(_ probe: Probe) -> Bool {
        switch (probe, status) {
        case (_, .passing): true
        case (.live, .pending): true
        default: false
        }
    }

    /// The reason shown when the check holds a probe back.
    var failureReason: String {
        switch status {
        case .pending: lastFailure.map { "not passed yet: \($0)" } ?? "not run yet"
        default: lastFailure ?? "failing"
        }
    }
}
