/// Every state × event pair of the supervisor, spelled out: no `default:`, so a new state or event
/// does not compile until each pair has been decided. Ignored pairs return no action.
extension SupervisorStateMachine {
    public mutating func handle(_ event: Event) -> [Action] {
        switch state {
        case .idle: whenIdle(event)
        case .running(let pid): whenRunning(pid, event)
        case .draining(let pid, let watching): whenDraining(pid, watching: watching, event)
        case .stopping(let pid, let thenRestart): whenStopping(pid, thenRestart: thenRestart, event)
        case .cleaningUp(let group, let after, let thenRestart, let stopping):
            whenCleaningUp(group, after: after, thenRestart: thenRestart, stopping: stopping, event)
        case .waitingToRestart(let last): whenWaitingToRestart(last, event)
        case .exited: []  // vigil is leaving; nothing changes that
        }
    }

    private mutating func whenIdle(_ event: Event) -> [Action] {
        switch event {
        case .started(let pid):
            state = .running(pid: pid)
            return []
        case .childExited(let termination, _, _):
            // The very first spawn failed: nothing to clean up, nothing to restart into a loop.
            state = .exited(code: termination.exitCode)
            return [.exit(code: termination.exitCode)]
        case .stopRequested, .signal, .timerFired, .connectionsClosed, .leftoversGone, .livenessFailed:
            return []
        }
    }

    private mutating func whenRunning(_ pid: Int32, _ event: Event) -> [Action] {
        switch event {
        case .stopRequested(let signal, let ready):
            let name = SignalNames.name(signal)
            if !ready || (settings.drainDelay == .zero && !settings.drainWatchesConnections) {
                let why = ready ? "no drain configured" : "not ready, so no traffic to drain"
                return [.setDraining, .log("\(name): \(why): stopping the app")]
                    + beginStop(pid, thenRestart: false)
            }
            state = .draining(pid: pid, watching: false)
            var actions: [Action] = []
            var message =
                "\(name): draining: readiness fails, the app keeps serving for "
                + DurationText.format(settings.drainDelay)
            if settings.drainWatchesConnections {
                message +=
                    ", then until \(settings.drainWaitsFor) (at most "
                    + "\(DurationText.format(settings.drainTimeout)) in all)"
                actions.append(.schedule(.drainTimeout, after: settings.drainTimeout))
            }
            return actions + [.log(message), .setDraining, .schedule(.drainDelay, after: settings.drainDelay)]
        case .signal(let signal):
            return [.forward(signal: signal, to: recipient(pid))]
        case .childExited(let termination, let readyFor, let now):
            return [.log("app \(termination)")]
                + afterExit(termination, group: pid, readyFor: readyFor, stopping: false, at: now)
        case .livenessFailed(let now):
            guard settings.restartUnhealthy else { return [] }
            var actions: [Action] = []
            guard grantRestart(at: now, &actions) else {
                return actions + [.log("liveness failed: stopping the app")] + beginStop(pid, thenRestart: false)
            }
            return [.log("liveness failed: restarting the app")] + beginStop(pid, thenRestart: true)
        case .started, .timerFired, .connectionsClosed, .leftoversGone:
            return []
        }
    }

    private mutating func whenDraining(_ pid: Int32, watching: Bool, _ event: Event) -> [Action] {
        switch event {
        case .stopRequested(let signal, _):
            let skip = "second \(SignalNames.name(signal)): skipping the rest of the drain"
            return [.cancel(.drainDelay), .cancel(.drainTimeout), .log(skip)] + beginStop(pid, thenRestart: false)
        case .timerFired(.drainDelay) where !watching:
            guard settings.drainWatchesConnections else {
                return [.log("drain delay over: stopping the app")] + beginStop(pid, thenRestart: false)
            }
            state = .draining(pid: pid, watching: true)
            return [.watchDrainConnections]
        case .connectionsClosed where watching:
            return [.cancel(.drainTimeout), .log("drain: no request in flight: stopping the app")]
                + beginStop(pid, thenRestart: false)
        case .timerFired(.drainTimeout):
            let timeout = DurationText.format(settings.drainTimeout)
            return [.cancel(.drainDelay), .log("drain timeout (\(timeout)) reached: stopping the app")]
                + beginStop(pid, thenRestart: false)
        case .signal(let signal):
            return [.forward(signal: signal, to: recipient(pid))]
        case .childExited(let termination, let readyFor, let now):
            return [.cancel(.drainDelay), .cancel(.drainTimeout), .log("app \(termination) while draining")]
                + afterExit(termination, group: pid, readyFor: readyFor, stopping: true, at: now)
        case .timerFired(.drainDelay), .connectionsClosed:
            return []  // already watching, or not yet
        case .timerFired(.stopTimeout), .timerFired(.cleanupBound), .timerFired(.restartBackoff):
            return []
        case .started, .leftoversGone, .livenessFailed:
            return []  // liveness is not acted on while the instance leaves anyway
        }
    }

    private mutating func whenStopping(_ pid: Int32, thenRestart: Bool, _ event: Event) -> [Action] {
        switch event {
        case .stopRequested(let signal, _):
            let name = SignalNames.name(signal)
            if thenRestart {
                state = .stopping(pid: pid, thenRestart: false)
                return [.setDraining, .log("\(name) during a restart: the app will not be started again")]
            }
            return [.cancel(.stopTimeout), .killGroup(pid), .log("second \(name): killing the app's process group")]
        case .timerFired(.stopTimeout):
            let timeout = DurationText.format(settings.stopTimeout)
            return [.killGroup(pid), .log("the app did not stop within \(timeout): killing its process group")]
        case .signal(let signal):
            return [.forward(signal: signal, to: recipient(pid))]
        case .childExited(let termination, let readyFor, _):
            if thenRestart { countRestart(after: readyFor) }
            state = .cleaningUp(group: pid, after: termination, thenRestart: thenRestart, stopping: !thenRestart)
            return [.cancel(.stopTimeout), .log("app \(termination)")] + cleanUp(pid, thenRestart: thenRestart)
        case .timerFired(.drainDelay), .timerFired(.drainTimeout), .timerFired(.cleanupBound),
            .timerFired(.restartBackoff):
            return []
        case .started, .connectionsClosed, .leftoversGone, .livenessFailed:
            return []
        }
    }

    private mutating func whenCleaningUp(
        _ group: Int32, after: Termination, thenRestart: Bool, stopping: Bool, _ event: Event
    ) -> [Action] {
        switch event {
        case .stopRequested:
            state = .cleaningUp(group: group, after: after, thenRestart: false, stopping: true)
            // No restart now: what was a restart's cleanup widens to everything.
            let everything = Leftovers.everything(group: group)
            return thenRestart ? [.setDraining, .terminateLeftovers(everything), .watchUntilGone(everything)] : []
        case .timerFired(.cleanupBound):
            return [.killLeftovers(leftovers(group, thenRestart: thenRestart))]
                + finishCleanup(after, thenRestart: thenRestart)
        case .leftoversGone:
            return [.cancel(.cleanupBound)] + finishCleanup(after, thenRestart: thenRestart)
        case .signal:
            return []  // the app is gone; what is left of its group is being stopped
        case .timerFired(.drainDelay), .timerFired(.drainTimeout), .timerFired(.stopTimeout),
            .timerFired(.restartBackoff):
            return []
        case .started, .childExited, .connectionsClosed, .livenessFailed:
            return []
        }
    }

    private mutating func whenWaitingToRestart(_ last: Termination, _ event: Event) -> [Action] {
        switch event {
        case .started(let pid):
            state = .running(pid: pid)
            return []
        case .childExited(let termination, let readyFor, let now):
            // A restart's spawn failed: same policy as an exit.
            return afterExit(termination, group: nil, readyFor: readyFor, stopping: false, at: now)
        case .stopRequested(let signal, _):
            state = .exited(code: last.exitCode)
            return [
                .cancel(.restartBackoff), .setDraining,
                .log("\(SignalNames.name(signal)) while waiting to restart: exiting"), .exit(code: last.exitCode),
            ]
        case .timerFired(.restartBackoff):
            return [.spawn]
        case .signal:
            return []  // no app to forward it to
        case .timerFired(.drainDelay), .timerFired(.drainTimeout), .timerFired(.stopTimeout),
            .timerFired(.cleanupBound):
            return []
        case .connectionsClosed, .leftoversGone, .livenessFailed:
            return []
        }
    }

    // MARK: - Steps shared by several states

    private mutating func beginStop(_ pid: Int32, thenRestart: Bool) -> [Action] {
        state = .stopping(pid: pid, thenRestart: thenRestart)
        return [
            .sendStopSignal(settings.stopSignal, to: recipient(pid)),
            .schedule(.stopTimeout, after: settings.stopTimeout),
        ]
    }

    /// The app ended by itself (or never started, `group` nil): restart or exit, per the policy.
    private mutating func afterExit(
        _ termination: Termination, group: Int32?, readyFor: Duration, stopping: Bool, at now: Int64
    ) -> [Action] {
        let restart: Bool
        switch settings.restart {
        case .never: restart = false
        case .onFailure: restart = !termination.isSuccess
        case .always: restart = true
        }
        var actions: [Action] = []
        let thenRestart = restart && !stopping && grantRestart(at: now, &actions)
        if thenRestart { countRestart(after: readyFor) }
        guard let group else {
            // Nothing was started, so there is no group to empty.
            if thenRestart { return actions + finishCleanup(termination, thenRestart: true) }
            state = .exited(code: termination.exitCode)
            return actions + [.exit(code: termination.exitCode)]
        }
        state = .cleaningUp(group: group, after: termination, thenRestart: thenRestart, stopping: stopping)
        return actions + cleanUp(group, thenRestart: thenRestart)
    }

    private func leftovers(_ group: Int32, thenRestart: Bool) -> Leftovers {
        thenRestart ? .group(group) : .everything(group: group)
    }

    private func cleanUp(_ group: Int32, thenRestart: Bool) -> [Action] {
        let leftovers = leftovers(group, thenRestart: thenRestart)
        return [
            .terminateLeftovers(leftovers), .schedule(.cleanupBound, after: settings.leftoverGrace),
            .watchUntilGone(leftovers),
        ]
    }

    private mutating func finishCleanup(_ termination: Termination, thenRestart: Bool) -> [Action] {
        if thenRestart {
            let delay = takeBackoff()
            state = .waitingToRestart(last: termination)
            let message = "restarting the app in \(DurationText.format(delay)) (restart \(restarts))"
            return [.log(message), .schedule(.restartBackoff, after: delay)]
        }
        state = .exited(code: termination.exitCode)
        return [.exit(code: termination.exitCode)]
    }
}
