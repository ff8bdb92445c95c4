/// Why readiness is held down on purpose.
public enum DrainReason: String, Sendable {
    /// SIGTERM: the stop sequence is under way.
    case shuttingDown = "shutting down"
    /// `POST /drain` or `vigil drain`.
    case manual = "drained by operator"
}

/// One line of a probe's verdict: a check or an implicit fact.
public struct ProbeItem: Sendable, Equatable {
    public var name: String
    public var passed: Bool
    /// Why it failed; nil when it passed.
    public var reason: String?
}

public struct ProbeVerdict: Sendable, Equatable {
    public var probe: Probe
    public var items: [ProbeItem]
    public var passed: Bool { items.allSatisfy(\.passed) }
}

/// Something worth one log line: a change, never a repetition.
public enum HealthEvent: Sendable, Equatable {
    case checkChanged(name: String, from: CheckStatus, to: CheckStatus, message: String)
    case probeChanged(Probe, passed: Bool)
    case startupCompleted
}

/// The one place where vigil's health lives. Updated only by check results and process events;
/// read by the probe server. Pure: time comes in as arguments, so it is tested without clocks.
public struct HealthModel: Sendable {
    public static let implicitFactNames: Set<String> = ["process", "startup", "draining", "min_ready", "min-ready"]

    public private(set) var checks: [CheckState]
    public private(set) var processRunning = false
    public private(set) var draining: DrainReason? = nil
    public private(set) var startupComplete = false
    public let minReady: Duration
    /// Since when process, startup and the readiness checks have all held (for `VIGIL_MIN_READY`).
    private var readyConditionsSince: Int64? = nil
    private var lastVerdicts: [Probe: Bool] = [:]

    public init(checks: [CheckSpec], minReady: Duration, at moment: Moment) {
        self.checks = checks.sorted { $0.name < $1.name }.map { CheckState(spec: $0, at: moment) }
        self.minReady = minReady
        for probe in Probe.allCases { lastVerdicts[probe] = evaluate(probe, at: moment).passed }
    }

    public func index(ofCheck name: String) -> Int? { checks.firstIndex { $0.spec.name == name } }

    // MARK: - Inputs

    public mutating func record(_ result: CheckResult, forCheck index: Int, at moment: Moment) -> [HealthEvent] {
        var events: [HealthEvent] = []
        if let previous = checks[index].record(result, at: moment) {
            events.append(.checkChanged(name: checks[index].spec.name, from: previous, to: checks[index].status, message: result.message))
        }
        return events + settle(at: moment)
    }

    public mutating func setProcessRunning(_ running: Bool, at moment: Moment) -> [HealthEvent] {
        processRunning = running
        return settle(at: moment)
    }

    public mutating func setDraining(_ reason: DrainReason?, at moment: Moment) -> [HealthEvent] {
        // A shutdown is never downgraded to a manual drain, nor cancelled by DELETE /drain.
        if draining == .shuttingDown && reason != .shuttingDown { return [] }
        draining = reason
        return settle(at: moment)
    }

    /// The app was restarted in place: every check must prove itself again.
    public mutating func resetForRestart(at moment: Moment) -> [HealthEvent] {
        checks = checks.map { CheckState(spec: $0.spec, at: moment) }
        startupComplete = false
        return settle(at: moment)
    }

    /// Re-evaluates time-dependent verdicts (MIN_READY); call at `nextDeadline`.
    public mutating func tick(at moment: Moment) -> [HealthEvent] { settle(at: moment) }

    /// When readiness may flip by the passing of time alone, if at all.
    public var nextDeadline: Int64? {
        guard let since = readyConditionsSince, minReady > .zero else { return nil }
        return since + minReady.milliseconds
    }

    private mutating func settle(at moment: Moment) -> [HealthEvent] {
        var events: [HealthEvent] = []
        if !startupComplete && processRunning
            && checks.allSatisfy({ !($0.spec.feeds(.startup) || $0.spec.feeds(.ready)) || $0.hasPassed }) {
            startupComplete = true
            events.append(.startupCompleted)
        }
        if readyConditionsHeld {
            if readyConditionsSince == nil { readyConditionsSince = moment.monotonicMilliseconds }
        } else {
            readyConditionsSince = nil
        }
        for probe in Probe.allCases {
            let passed = evaluate(probe, at: moment).passed
            assert(passed == passes(probe, at: moment), "passes(_:at:) disagrees with evaluate(_:at:) for \(probe)")
            if lastVerdicts[probe] != passed {
                lastVerdicts[probe] = passed
                events.append(.probeChanged(probe, passed: passed))
            }
        }
        return events
    }

    private var readyConditionsHeld: Bool {
        processRunning && startupComplete && checks.allSatisfy { !$0.spec.feeds(.ready) || $0.allows(.ready) }
    }

    // MARK: - Verdicts

    public func evaluate(_ probe: Probe, at moment: Moment) -> ProbeVerdict {
        if probe == .startup && startupComplete {
            // Latched: kubelet stops asking once it passed, and a later failure is liveness' business.
            return ProbeVerdict(probe: .startup, items: [ProbeItem(name: "process", passed: true, reason: nil)]
                + checks.filter { $0.spec.feeds(.startup) || $0.spec.feeds(.ready) }.map { ProbeItem(name: $0.spec.name, passed: true, reason: nil) })
        }
        var items = [ProbeItem(name: "process", passed: processRunning, reason: processRunning ? nil : "app is not running")]
        switch probe {
        case .live:
            for check in checks where check.spec.feeds(.live) {
                items.append(item(for: check, probe: .live))
            }
        case .startup:
            for check in checks where check.spec.feeds(.startup) || check.spec.feeds(.ready) {
                let passed = startupComplete || check.hasPassed
                items.append(ProbeItem(name: check.spec.name, passed: passed, reason: passed ? nil : check.failureReason))
            }
        case .ready:
            items.append(ProbeItem(name: "startup", passed: startupComplete, reason: startupComplete ? nil : "startup not complete"))
            items.append(ProbeItem(name: "draining", passed: draining == nil, reason: draining?.rawValue))
            if minReady > .zero {
                let heldFor = readyConditionsSince.map { Duration.milliseconds(moment.monotonicMilliseconds - $0) } ?? .zero
                let passed = readyConditionsSince != nil && heldFor >= minReady
                items.append(ProbeItem(
                    name: "min-ready", passed: passed,
                    reason: passed ? nil : "ready for \(DurationText.format(heldFor)) of \(DurationText.format(minReady))"))
            }
            for check in checks where check.spec.feeds(.ready) {
                items.append(item(for: check, probe: .ready))
            }
        }
        return ProbeVerdict(probe: probe, items: items)
    }

    /// Whether `probe` passes: the same answer as `evaluate(_:at:).passed`, without building the
    /// items (the probe server's hot path answers `ok` from this).
    public func passes(_ probe: Probe, at moment: Moment) -> Bool {
        if probe == .startup && startupComplete { return true }
        guard processRunning else { return false }
        switch probe {
        case .live:
            return checks.allSatisfy { !$0.spec.feeds(.live) || $0.allows(.live) }
        case .startup:
            return checks.allSatisfy { !($0.spec.feeds(.startup) || $0.spec.feeds(.ready)) || $0.hasPassed }
        case .ready:
            guard startupComplete, draining == nil else { return false }
            if minReady > .zero {
                guard let since = readyConditionsSince, moment.monotonicMilliseconds - since >= minReady.milliseconds else { return false }
            }
            return checks.allSatisfy { !$0.spec.feeds(.ready) || $0.allows(.ready) }
        }
    }

    private func item(for check: CheckState, probe: Probe) -> ProbeItem {
        let passed = check.allows(probe)
        return ProbeItem(name: check.spec.name, passed: passed, reason: passed ? nil : check.failureReason)
    }

    /// One named item of a probe (`/readyz/db`), or nil when the probe has no such item.
    public func evaluate(_ probe: Probe, item name: String, at moment: Moment) -> ProbeItem? {
        evaluate(probe, at: moment).items.first { $0.name == name }
    }
}
