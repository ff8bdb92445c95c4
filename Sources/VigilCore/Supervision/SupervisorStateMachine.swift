/// The supervisor's decisions, free of I/O: events in, actions out (swift-nio style). The agent
/// performs the actions and feeds back what happened. Every action names what it acts on, so the
/// agent keeps no copy of the app's pid or process group.
public struct SupervisorStateMachine: Sendable {
    public enum Timer: Sendable, Hashable, CaseIterable {
        case drainDelay, drainTimeout, stopTimeout, cleanupBound, restartBackoff
    }

    public enum Event: Sendable, Equatable {
        case started(pid: Int32)
        /// `at`: the monotonic time in milliseconds, for the restart budget.
        case childExited(Termination, readyFor: Duration, at: Int64)
        /// A shutdown signal (`VIGIL_SHUTDOWN_SIGNALS`). `instanceReady`: whether load balancers
        /// may still be sending traffic, so draining is worth its delay.
        case stopRequested(by: Int32, instanceReady: Bool)
        /// Any other signal vigil received.
        case signal(Int32)
        case timerFired(Timer)
        /// The drain's connection watch saw no established connection left on the drain ports.
        case connectionsClosed
        /// Nothing of what `watchUntilGone` watches is left.
        case leftoversGone
        case livenessFailed(at: Int64)
    }

    /// Who a signal goes to.
    public enum Recipient: Sendable, Equatable {
        /// The app's process group; the process alone when the group cannot be signalled.
        case group(Int32)
        case process(Int32)
    }

    /// What is cleared after the app exited.
    public enum Leftovers: Sendable, Equatable {
        /// The app's process group: before a restart (exec checks and the rest keep running).
        case group(Int32)
        /// The group and every other descendant of vigil, daemons in sessions of their own
        /// included: before vigil exits (s6-overlay's stage 3; tini and dumb-init leave them).
        case everything(group: Int32)
    }

    public enum Action: Sendable, Equatable {
        case spawn
        case forward(signal: Int32, to: Recipient)
        case sendStopSignal(Int32, to: Recipient)
        /// SIGKILL to the process group (and its leader).
        case killGroup(Int32)
        /// SIGTERM to what is left after the main child exited.
        case terminateLeftovers(Leftovers)
        /// Report `.leftoversGone` once nothing of them is left (SIGTERMing any that appear).
        case watchUntilGone(Leftovers)
        /// SIGKILL to what is left once the grace for leftovers ran out.
        case killLeftovers(Leftovers)
        case watchDrainConnections
        case setDraining
        case schedule(Timer, after: Duration)
        case cancel(Timer)
        case log(String)
        case exit(code: Int32)
    }

    public struct Settings: Sendable {
        public var shutdownSignals: [Int32]
        public var stopSignal: Int32
        public var signalTarget: SignalTarget
        public var stopTimeout: Duration
        public var drainDelay: Duration
        public var drainWatchesConnections: Bool
        public var drainTimeout: Duration
        /// What the connection-aware drain waits for, for the log: the front door, the ports, or both.
        public var drainWaitsFor: String
        public var restart: RestartPolicy
        public var restartUnhealthy: Bool
        public var restartBackoffMax: Duration
        public var restartLimit: Int
        public var restartWindow: Duration
        /// How long leftovers in the group get after SIGTERM before SIGKILL, once the app exited.
        public var leftoverGrace: Duration

        public init(_ configuration: Configuration) {
            shutdownSignals = configuration.shutdownSignals
            stopSignal = configuration.stopSignal
            signalTarget = configuration.signalTarget
            stopTimeout = configuration.stopTimeout
            drainDelay = configuration.drainDelay
            drainWatchesConnections = configuration.drainWatchesConnections
            drainTimeout = configuration.drainTimeout
            let door = "no request is in flight through the front door"
            let ports = "no request is in flight on the drain ports"
            drainWaitsFor =
                configuration.proxy == nil
                ? ports : configuration.drainPorts.isEmpty ? door : "\(door) and \(ports)"
            restart = configuration.restart
            restartUnhealthy = configuration.restartUnhealthy
            restartBackoffMax = configuration.restartBackoffMax
            restartLimit = configuration.restartLimit
            restartWindow = configuration.restartWindow
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
        /// The app exited; its group is being emptied before the next step.
        case cleaningUp(group: Int32, after: Termination, thenRestart: Bool, stopping: Bool)
        case waitingToRestart(last: Termination)
        case exited(code: Int32)
    }

    let settings: Settings
    var state: State = .idle
    public private(set) var backoff: RestartBackoff
    public private(set) var budget: RestartBudget
    public private(set) var restarts = 0

    public init(settings: Settings) {
        self.settings = settings
        self.backoff = RestartBackoff(maximum: settings.restartBackoffMax)
        self.budget = RestartBudget(limit: settings.restartLimit, window: settings.restartWindow)
    }

    /// Whether `signal` starts the stop sequence rather than being forwarded.
    public func isShutdownSignal(_ signal: Int32) -> Bool { settings.shutdownSignals.contains(signal) }

    public var appPid: Int32? {
        switch state {
        case .running(let pid), .draining(let pid, _), .stopping(let pid, _): pid
        case .idle, .cleaningUp, .waitingToRestart, .exited: nil
        }
    }

    public var isStopping: Bool {
        switch state {
        case .draining, .stopping, .exited: true
        case .cleaningUp(_, _, _, let stopping): stopping
        case .idle, .running, .waitingToRestart: false
        }
    }

    public mutating func start() -> [Action] {
        guard state == .idle else { return [] }
        return [.spawn]
    }

    func recipient(_ pid: Int32) -> Recipient {
        switch settings.signalTarget {
        case .group: .group(pid)
        case .child: .process(pid)
        }
    }

    mutating func countRestart(after readyFor: Duration) {
        restarts += 1
        if readyFor >= RestartBackoff.healthyRunResetsAfter { backoff.reset() }
    }

    mutating func takeBackoff() -> Duration { backoff.take() }

    /// Whether the budget grants a restart at `now`; logs why not when it does not.
    mutating func grantRestart(at now: Int64, _ actions: inout [Action]) -> Bool {
        if budget.grant(at: now) { return true }
        actions.append(.log("the app was restarted \(budget.summary) (VIGIL_RESTART_LIMIT): not restarting it again"))
        return false
    }
}
