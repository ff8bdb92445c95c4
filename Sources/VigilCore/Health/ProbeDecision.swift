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

/// Receives a probe's items one by one from `HealthModel.decide`. Names and reasons are
/// autoclosures: the fast path (`passes`) never builds them.
protocol ProbeItemSink {
    /// Returns false to stop: the verdict is known.
    mutating func add(_ name: @autoclosure () -> String, passed: Bool, reason: @autoclosure () -> String?) -> Bool
}

/// Stops at the first failing item.
private struct PassCheck: ProbeItemSink {
    var passed = true
    mutating func add(_ name: @autoclosure () -> String, passed: Bool, reason: @autoclosure () -> String?) -> Bool {
        self.passed = passed
        return passed
    }
}

/// Keeps every item, for verbose and JSON answers.
private struct ItemCollector: ProbeItemSink {
    var items: [ProbeItem] = []
    mutating func add(_ name: @autoclosure () -> String, passed: Bool, reason: @autoclosure () -> String?) -> Bool {
        items.append(ProbeItem(name: name(), passed: passed, reason: passed ? nil : reason()))
        return true
    }
}

extension HealthModel {
    /// Whether `probe` passes now: the probe server's hot path (`200 ok`).
    public func passes(_ probe: Probe, at moment: Moment) -> Bool {
        var check = PassCheck()
        decide(probe, at: moment, into: &check)
        return check.passed
    }

    /// Every item of `probe` with its reason: the verbose and JSON answers.
    public func evaluate(_ probe: Probe, at moment: Moment) -> ProbeVerdict {
        var collector = ItemCollector()
        decide(probe, at: moment, into: &collector)
        return ProbeVerdict(probe: probe, items: collector.items)
    }

    /// One named item of a probe (`/readyz/db`), or nil when the probe has no such item.
    public func evaluate(_ probe: Probe, item name: String, at moment: Moment) -> ProbeItem? {
        evaluate(probe, at: moment).items.first { $0.name == name }
    }

    /// The one place that decides each probe: its items in order, each passing or not.
    func decide<Sink: ProbeItemSink>(_ probe: Probe, at moment: Moment, into sink: inout Sink) {
        if probe == .startup && startupComplete {
            // Latched: kubelet stops asking once it passed, and a later failure is liveness' business.
            guard sink.add("process", passed: true, reason: nil) else { return }
            if notify != nil { guard sink.add("notify", passed: true, reason: nil) else { return } }
            for check in checks where check.spec.gatesStartup {
                guard sink.add(check.spec.name, passed: true, reason: nil) else { return }
            }
            return
        }
        guard sink.add("process", passed: processRunning, reason: "app is not running") else { return }
        switch probe {
        case .live:
            if let notify, notify.watchdog != nil {
                let now = moment.monotonicMilliseconds
                guard
                    sink.add("watchdog", passed: notify.watchdogPasses(at: now), reason: notify.watchdogReason(at: now))
                else { return }
            }
            for check in checks where check.spec.feeds(.live) {
                guard add(check, for: .live, into: &sink) else { return }
            }
        case .startup:
            if let notify {
                guard sink.add("notify", passed: notify.announcedReady, reason: notify.readyReason) else { return }
            }
            for check in checks where check.spec.gatesStartup {
                guard sink.add(check.spec.name, passed: check.hasPassed, reason: check.failureReason) else { return }
            }
        case .ready:
            guard sink.add("startup", passed: startupComplete, reason: "startup not complete"),
                sink.add("draining", passed: draining == nil, reason: self.draining?.rawValue)
            else { return }
            if let notify {
                guard sink.add("notify", passed: notify.phase == .ready, reason: notify.readyReason) else { return }
            }
            if minReady > .zero {
                let heldFor = readyConditionsSince.map { Duration.milliseconds(moment.monotonicMilliseconds - $0) }
                let passed = heldFor.map { $0 >= minReady } ?? false
                let reason = "ready for \(DurationText.format(heldFor ?? .zero)) of \(DurationText.format(minReady))"
                guard sink.add("min-ready", passed: passed, reason: reason) else { return }
            }
            for check in checks where check.spec.feeds(.ready) {
                guard add(check, for: .ready, into: &sink) else { return }
            }
        }
    }

    private func add<Sink: ProbeItemSink>(_ check: CheckState, for probe: Probe, into sink: inout Sink) -> Bool {
        sink.add(check.spec.name, passed: check.allows(probe), reason: check.failureReason)
    }
}
