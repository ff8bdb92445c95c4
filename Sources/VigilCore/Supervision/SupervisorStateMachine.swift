/// The supervisor's decisions, free of I/O: events in, actions out (swift-service-lifecycle style).
/// The agent performs the actions and feeds back what happened.
public struct SupervisorStateMachine: Sendable {
    public enum Timer: Sendable, Hashable {
        case drainDelay, drainTimeout, stopTimeout, cleanupBound, restartBackoff
    }

    public enum Event: Sendable, Equatable {
        case started(pid: Int32)
        case childExited(Termination, readyFor: Duration)
        /// SIGTERM (or a stop asked for by the orchestrator). `instanceReady`: whether load
        /// balancers may still be sending traffic, so draining is worth its delay.
        case stopRequested(instanceReady: Bool)
        /// Any other signal vigil received.
        case signal(Int32)
        case timerFired(Timer)
        /// The drain's connection watch saw no established connection left on the drain ports.
        case connectionsClosed
        /// Nothing is left in the app's process group.
        case groupEmpty
        case livenessFailed
    }

    public enum Action: Sendable, Equatable {
        case spawn
        case forward(signal: Int32)
        case sendStopSignal(Int32)
        case killGroup
        /// SIGTERM to what is left in the app's process group after the main child exited.
        case terminateLeftovers
        case watchGroupUntilEmpty
        case watchDrainConnections
        case setDraining
        case schedule(Timer, after: Duration)
        case cancel(Timer)
        case log(String)
        case exit(code: Int32)
    }

    public struct Settings: Sendable {
        public var stopSignal: Int32
        public var stopTimeout: Duration
        public var drainDelay: Duration
        public var drainWatchesConnections: Bool
        public var drainTimeout: Duration
        public var restart: RestartPolicy
        public var restartUnhealthy: Bool
        public var restartBackoffMax: Duration
        /// How long leftovers in the group get after SIGTERM before SIGKILL, once the app exited.
        public var leftoverGrace: Duration

        public init(_ configuration: Configuration) {
            stopSignal = configuration.stopSignal
            stopTimeout = configuration.stopTimeout
            drainDelay = configuration.drainDelay
            drainWatchesConnections = !configuration.drainPorts.isEmpty
            drainTimeout = configuration.drainTimeout
            restart = configuration.restart
            restartUnhealthy = configuration.restartUnhealthy
            restartBackoffMax = configuration.restartBackoffMax
            leftoverGrace = SupervisorStateMachine.leftoverGrace
        }
    }

    /// Documented bound for leftovers after the app exits (docs/supervision.md).
    public static let leftoverGrace: Duration = .seconds(2)

    enum State: Sendable, Equatable {
        case idle
        case running(pid: Int32)
        /// Readiness failed, app untouched. `watching`: past the delay, waiting for connections.
        case draining(pid: Int32, watching: Bool)
        case stopping(pid: Int32, thenRestart: Bool)
        /// The app exited; its group is being emptied before `next`.
        case cleaningUp(after: Termination, thenRestart: Bool, stopping: Bool)
        case waitingToRestart(last: Termination)
        case exited(code: Int32)
    }

    let settings: Settings
    private(set) var state: State = .idle
    public private(set) var backoff: RestartBackoff
    public private(set) var restarts = 0

    public init(settings: Settings) {
        self.settings = settings
        self.backoff = RestartBackoff(maximum: settings.restartBackoffMax)
    }

    public var appPid: Int32? {
        switch state {
        case .running(let pid), .draining(let pid, _), .stopping(let pid, _): pid
        default: nil
        }
    }

    public var isStopping: Bool {
        switch state {
        case .draining, .stopping, .exited: true
        case .cleaningUp(_, _, let stopping): stopping
        default: false
        }
    }

    public mutating func start() -> [Action] {
        guard state == .idle else { return [] }
        return [.spawn]
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.idle, .started(let pid)), (.waitingToRestart, .started(let pid)):
            state = .running(pid: pid)
            return []

        case (.idle, .childExited(let termination, _)):
            // The very first spawn failed: nothing to clean up, nothing to restart into a loop.
            state = .exited(code: termination.exitCode)
            return [.exit(code: termination.exitCode)]

        case (.waitingToRestart, .childExited(let termination, let readyFor)):
            // A restart's spawn failed: same policy as an exit.
            return afterExit(termination, readyFor: readyFor, stopping: false)

        // MARK: Stop requests
        case (.running(let pid), .stopRequested(let ready)):
            if !ready || (settings.drainDelay == .zero && !settings.drainWatchesConnections) {
                return [.setDraining, .log(ready ? "SIGTERM: stopping the app (no drain configured)" : "SIGTERM: not ready, so no traffic to drain: stopping the app")]
                    + beginStop(pid: pid, thenRestart: false)
            }
            state = .draining(pid: pid, watching: false)
            var actions: [Action] = []
            var message = "SIGTERM: draining: readiness fails, the app keeps serving for \(DurationText.format(settings.drainDelay))"
            if settings.drainWatchesConnections {
                message += ", then while it has connections on the drain ports (at most \(DurationText.format(settings.drainTimeout)) in all)"
                actions.append(.schedule(.drainTimeout, after: settings.drainTimeout))
            }
            actions.append(.log(message))
            actions.append(.setDraining)
            actions.append(.schedule(.drainDelay, after: settings.drainDelay))
            return actions

        case (.draining(let pid, _), .stopRequested):
            return [.cancel(.drainDelay), .cancel(.drainTimeout), .log("second SIGTERM: skipping the rest of the drain")]
                + beginStop(pid: pid, thenRestart: false)

        case (.draining(let pid, false), .timerFired(.drainDelay)):
            guard settings.drainWatchesConnections else {
                return [.log("drain delay over: stopping the app")] + beginStop(pid: pid, thenRestart: false)
            }
            state = .draining(pid: pid, watching: true)
            return [.watchDrainConnections]

        case (.draining(let pid, true), .connectionsClosed):
            return [.cancel(.drainTimeout), .log("drain: no connections left: stopping the app")]
                + beginStop(pid: pid, thenRestart: false)

        case (.draining(let pid, _), .timerFired(.drainTimeout)):
            return [.cancel(.drainDelay), .log("drain timeout (\(DurationText.format(settings.drainTimeout))) reached: stopping the app")]
                + beginStop(pid: pid, thenRestart: false)

        case (.stopping(_, let thenRestart), .stopRequested):
            if thenRestart {
                state = .stopping(pid: appPid!, thenRestart: false)
                return [.setDraining, .log("SIGTERM during a restart: the app will not be started again")]
            }
            return [.cancel(.stopTimeout), .killGroup, .log("second SIGTERM: killing the app's process group")]

        case (.stopping, .timerFired(.stopTimeout)):
            return [.killGroup, .log("the app did not stop within \(DurationText.format(settings.stopTimeout)): killing its process group")]

        case (.waitingToRestart(let last), .stopRequested):
            state = .exited(code: last.exitCode)
            return [.cancel(.restartBackoff), .setDraining, .log("SIGTERM while waiting to restart: exiting"), .exit(code: last.exitCode)]

        case (.cleaningUp(let after, let thenRestart, _), .stopRequested):
            state = .cleaningUp(after: after, thenRestart: false, stopping: true)
            return thenRestart ? [.setDraining] : []

        // MARK: Other signals
        case (.running, .signal(let signal)), (.draining, .signal(let signal)), (.stopping, .signal(let signal)):
            return [.forward(signal: signal)]

        // MARK: The app exited
        case (.running, .childExited(let termination, let readyFor)):
            return [.log("app \(termination)")] + afterExit(termination, readyFor: readyFor, stopping: false)

        case (.draining, .childExited(let termination, let readyFor)):
            return [.cancel(.drainDelay), .cancel(.drainTimeout), .log("app \(termination) while draining")]
                + afterExit(termination, readyFor: readyFor, stopping: true)

        case (.stopping(_, let thenRestart), .childExited(let termination, let readyFor)):
            var actions: [Action] = [.cancel(.stopTimeout), .log("app \(termination)")]
            if thenRestart {
                restarts += 1
                state = .cleaningUp(after: termination, thenRestart: true, stopping: false)
                if readyFor >= RestartBackoff.healthyRunResetsAfter { backoff.reset() }
            } else {
                state = .cleaningUp(after: termination, thenRestart: false, stopping: true)
            }
            actions += [.terminateLeftovers, .schedule(.cleanupBound, after: settings.leftoverGrace), .watchGroupUntilEmpty]
            return actions

        case (.cleaningUp, .timerFired(.cleanupBound)):
            return [.killGroup] + finishCleanup()

        case (.cleaningUp, .groupEmpty):
            return [.cancel(.cleanupBound)] + finishCleanup()

        case (.waitingToRestart, .timerFired(.restartBackoff)):
            return [.spawn]

        // MARK: Liveness
        case (.running(let pid), .livenessFailed) where settings.restartUnhealthy:
            return [.log("liveness failed: restarting the app")] + beginStop(pid: pid, thenRestart: true)

        default:
            return []
        }
    }

    private mutating func beginStop(pid: Int32, thenRestart: Bool) -> [Action] {
        state = .stopping(pid: pid, thenRestart: thenRestart)
        return [
            .sendStopSignal(settings.stopSignal),
            .schedule(.stopTimeout, after: settings.stopTimeout),
        ]
    }

    private mutating func afterExit(_ termination: Termination, readyFor: Duration, stopping: Bool) -> [Action] {
        let restart: Bool
        switch settings.restart {
        case .never: restart = false
        case .onFailure: restart = !termination.isSuccess
        case .always: restart = true
        }
        if readyFor >= RestartBackoff.healthyRunResetsAfter { backoff.reset() }
        let thenRestart = restart && !stopping
        if thenRestart { restarts += 1 }
        state = .cleaningUp(after: termination, thenRestart: thenRestart, stopping: stopping)
        if case .spawnFailed = termination, !thenRestart {
            state = .exited(code: termination.exitCode)
            return [.exit(code: termination.exitCode)]
        }
        return [.terminateLeftovers, .schedule(.cleanupBound, after: settings.leftoverGrace), .watchGroupUntilEmpty]
    }

    private mutating func finishCleanup() -> [Action] {
        guard case .cleaningUp(let termination, let thenRestart, _) = state else { return [] }
        if thenRestart {
            let delay = backoff.take()
            state = .waitingToRestart(last: termination)
            return [.log("restarting the app in \(DurationText.format(delay)) (restart \(restarts))"), .schedule(.restartBackoff, after: delay)]
        }
        state = .exited(code: termination.exitCode)
        return [.exit(code: termination.exitCode)]
    }
}
