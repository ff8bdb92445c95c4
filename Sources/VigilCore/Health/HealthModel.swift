/// Why readiness is held down on purpose.
public enum DrainReason: String, Sendable {
    /// SIGTERM: the stop sequence is under way.
    case shuttingDown = "shutting down"
    /// `POST /drain` or `vigil drain`.
    case manual = "drained by operator"
    /// sd_notify `STOPPING=1`: the app said it is stopping (vigil does not signal it).
    case appStopping = "app is stopping (STOPPING=1)"
}

/// Something worth one log line: a change, never a repetition.
public enum HealthEvent: Sendable, Equatable {
    case checkChanged(name: String, from: CheckStatus, to: CheckStatus, message: String)
    case probeChanged(Probe, passed: Bool)
    case startupCompleted
}

/// The one place where vigil's health lives: every readiness fact (process, startup, drain, the
/// min-ready window, how long the instance has been ready) and every check's state. Updated only
/// by check results, process events and the passing of time; read by the probe server. Pure: time
/// comes in as arguments, so it is tested without clocks.
public struct HealthModel: Sendable {
    public static let implicitFactNames: Set<String> = [
        "process", "startup", "draining", "min_ready", "min-ready", "notify", "watchdog",
    ]

    public private(set) var checks: [CheckState]
    public private(set) var processRunning = false
    public private(set) var draining: DrainReason? = nil
    public private(set) var startupComplete = false
    /// What the app says over sd_notify; nil without `VIGIL_NOTIFY`.
    public private(set) var notify: NotifyFact?
    public let minReady: Duration
    /// Since when process, startup and the readiness checks have all held (for `VIGIL_MIN_READY`).
    private(set) var readyConditionsSince: Int64? = nil
    /// Since when the readiness probe has passed.
    private var readySince: Int64? = nil
    private var lastVerdicts: [Probe: Bool] = [:]

    public init(checks: [CheckSpec], minReady: Duration, notify: NotifyFact? = nil, at moment: Moment) {
        self.checks = checks.sorted { $0.name < $1.name }.map { CheckState(spec: $0, at: moment) }
        self.minReady = minReady
        self.notify = notify
        for probe in Probe.allCases { lastVerdicts[probe] = passes(probe, at: moment) }
    }

    public func index(ofCheck name: String) -> Int? { checks.firstIndex { $0.spec.name == name } }

    /// How long readiness has passed without a break, up to `moment` (zero when it fails).
    public func readyFor(at moment: Moment) -> Duration {
        readySince.map { Duration.milliseconds(moment.monotonicMilliseconds - $0) } ?? .zero
    }

    // MARK: - Inputs

    public mutating func record(_ result: CheckResult, forCheck index: Int, at moment: Moment) -> [HealthEvent] {
        var events: [HealthEvent] = []
        if let previous = checks[index].record(result, at: moment) {
            let name = checks[index].spec.name
            events.append(.checkChanged(name: name, from: previous, to: checks[index].status, message: result.message))
        }
        return events + settle(at: moment)
    }

    public mutating func setProcessRunning(_ running: Bool, at moment: Moment) -> [HealthEvent] {
        processRunning = running
        if running { notify?.started(at: moment.monotonicMilliseconds) }
        return settle(at: moment)
    }

    /// One sd_notify message from the app's process group.
    public mutating func notified(_ message: NotifyMessage, at moment: Moment) -> [HealthEvent] {
        guard notify != nil else { return [] }
        if notify!.apply(message, at: moment.monotonicMilliseconds) && draining == nil {
            draining = .appStopping
        }
        return settle(at: moment)
    }

    public mutating func setDraining(_ reason: DrainReason?, at moment: Moment) -> [HealthEvent] {
        // A shutdown is never downgraded to a manual drain, nor cancelled by DELETE /drain.
        if draining == .shuttingDown && reason != .shuttingDown { return [] }
        // Nor the app's own STOPPING=1 by DELETE /drain.
        if draining == .appStopping && reason == nil { return [] }
        draining = reason
        return settle(at: moment)
    }

    /// The app was restarted in place: every check must prove itself again. The run and failure
    /// counts go on (Prometheus counters never go backwards while vigil lives).
    public mutating func resetForRestart(at moment: Moment) -> [HealthEvent] {
        checks = checks.map { $0.restarted(at: moment) }
        startupComplete = false
        return settle(at: moment)
    }

    /// Re-evaluates time-dependent verdicts (MIN_READY); call at `nextDeadline`.
    public mutating func tick(at moment: Moment) -> [HealthEvent] { settle(at: moment) }

    /// When readiness may flip by the passing of time alone; nil when it cannot.
    public func nextDeadline(at moment: Moment) -> Int64? {
        var deadlines: [Int64] = []
        if let since = readyConditionsSince, minReady > .zero, !passes(.ready, at: moment) {
            deadlines.append(since + minReady.milliseconds)
        }
        // The sd_notify watchdog: liveness fails when its window ends without a ping.
        if let notify, let deadline = notify.watchdogDeadline, notify.watchdogPasses(at: moment.monotonicMilliseconds) {
            deadlines.append(deadline)
        }
        return deadlines.min()
    }

    private mutating func settle(at moment: Moment) -> [HealthEvent] {
        var events: [HealthEvent] = []
        if !startupComplete && processRunning && (notify?.announcedReady ?? true)
            && checks.allSatisfy({ !$0.spec.gatesStartup || $0.hasPassed })
        {
            startupComplete = true
            events.append(.startupCompleted)
        }
        if readyConditionsHeld {
            if readyConditionsSince == nil { readyConditionsSince = moment.monotonicMilliseconds }
        } else {
            readyConditionsSince = nil
        }
        for probe in Probe.allCases {
            let passed = passes(probe, at: moment)
            if lastVerdicts[probe] != passed {
                lastVerdicts[probe] = passed
                events.append(.probeChanged(probe, passed: passed))
                if probe == .ready { readySince = passed ? moment.monotonicMilliseconds : nil }
            }
        }
        return events
    }

    private var readyConditionsHeld: Bool {
        processRunning && startupComplete && (notify.map { $0.phase == .ready } ?? true)
            && checks.allSatisfy { !$0.spec.feeds(.ready) || $0.allows(.ready) }
    }
}

extension CheckSpec {
    /// Startup completes once every startup and readiness check has passed once.
    var gatesStartup: Bool { feeds(.startup) || feeds(.ready) }
}
