import Logging
import NIOCore
import VigilCore
import VigilSystem

/// Performs the supervisor state machine's actions: spawns the app, sends signals, runs the
/// timers, watches the process group and the drain, and reports back what happened. Holds no
/// facts of its own beyond the scheduled work: the pid and group come with each action.
final class AppSupervisor {
    typealias Timer = SupervisorStateMachine.Timer

    private var machine: SupervisorStateMachine
    private let loop: EventLoop
    private let logger: Logger
    private let command: [String]
    private let registry: ChildRegistry
    private let inherited: InheritedSignalState
    private let health: HealthMonitor
    private let checks: CheckScheduler
    private let drain: DrainWatcher
    /// Whether a balancer can see readiness at all: without the probe server, nothing to drain.
    private let probesServed: Bool
    private var timers: [Timer: Scheduled<Void>] = [:]
    private var groupWatch: Scheduled<Void>? = nil
    /// Descendants already sent SIGTERM during the final cleanup.
    private var terminated: Set<Int32> = []
    /// Set by the composition root: what vigil does on the machine's `exit` action.
    var onExit: (Int32) -> Void = { _ in }
    /// Set by the composition root: stop the checks before the final cleanup.
    var onFinalCleanup: () -> Void = {}
    /// Set by the composition root with `VIGIL_NOTIFY_FD`: a descriptor for each new app.
    var extraDescriptor: () -> (fd: Int32, as: Int32)? = { nil }
    /// Set by the composition root with `VIGIL_PROXY_LISTEN`: the drain waits for it first.
    var frontDoor: FrontDoor? = nil

    init(
        settings: SupervisorStateMachine.Settings, command: [String], probesServed: Bool,
        loop: EventLoop, logger: Logger, registry: ChildRegistry, inherited: InheritedSignalState,
        health: HealthMonitor, checks: CheckScheduler, drain: DrainWatcher
    ) {
        self.machine = SupervisorStateMachine(settings: settings)
        self.command = command
        self.probesServed = probesServed
        self.loop = loop
        self.logger = logger
        self.registry = registry
        self.inherited = inherited
        self.health = health
        self.checks = checks
        self.drain = drain
    }

    var appPid: Int32? { machine.appPid }
    var restarts: Int { machine.restarts }
    /// The exit code of the app's last run, for `/metrics` and `/status`.
    private(set) var lastExitCode: Int32? = nil

    func start() { perform(machine.start()) }

    func received(_ signal: Int32, from sender: Int32) {
        logger.debug("received \(SignalNames.name(signal))", metadata: ["from": "\(sender)"])
        if machine.isShutdownSignal(signal) {
            let ready = !probesServed || health.passes(.ready)
            perform(machine.handle(.stopRequested(by: signal, instanceReady: ready)))
        } else {
            perform(machine.handle(.signal(signal)))
        }
    }

    func livenessFailed() { perform(machine.handle(.livenessFailed(at: now))) }

    /// The loop's monotonic clock in milliseconds, for the restart budget.
    private var now: Int64 { HealthMonitor.moment(on: loop).monotonicMilliseconds }

    // MARK: - Actions

    private func perform(_ actions: [SupervisorStateMachine.Action]) {
        for action in actions { perform(action) }
    }

    private func perform(_ action: SupervisorStateMachine.Action) {
        switch action {
        case .spawn:
            spawnApp()
        case .forward(let signal, let recipient):
            send(signal, to: recipient)
        case .sendStopSignal(let signal, let recipient):
            logger.info("sending \(SignalNames.name(signal)) to the app", metadata: ["target": "\(recipient.word)"])
            send(signal, to: recipient)
        case .killGroup(let group):
            ProcessControl.send(9, to: -group)
            ProcessControl.send(9, to: group)
        case .terminateLeftovers(let leftovers):
            terminate(leftovers)
        case .watchUntilGone(let leftovers):
            watchUntilGone(leftovers)
        case .killLeftovers(let leftovers):
            ProcessControl.send(9, to: -leftovers.group)
            ProcessControl.send(9, to: leftovers.group)
            if case .everything = leftovers {
                for pid in ProcessTable.children(of: ProcessControl.pid) ?? [] { ProcessControl.send(9, to: pid) }
            }
        case .watchDrainConnections:
            let closed = { [unowned self] in self.perform(self.machine.handle(.connectionsClosed)) }
            guard let frontDoor else { return drain.start(onClosed: closed) }
            // Through the door first (no request in flight, no tunnel open), then the drain ports.
            frontDoor.finish { [unowned self] in
                self.drain.watchesPorts ? self.drain.start(onClosed: closed) : closed()
            }
        case .setDraining:
            health.setDraining(.shuttingDown)
        case .schedule(let timer, let delay):
            timers[timer]?.cancel()
            // Restarts get up to 10% jitter, so replicas that failed together do not return together.
            let jitter = timer == .restartBackoff ? Int64.random(in: 0...(delay.milliseconds / 10)) : 0
            timers[timer] = loop.assumeIsolated().scheduleTask(in: .milliseconds(delay.milliseconds + jitter)) {
                self.timers[timer] = nil
                self.perform(self.machine.handle(.timerFired(timer)))
            }
        case .cancel(let timer):
            timers.removeValue(forKey: timer)?.cancel()
        case .log(let message):
            logger.info("\(message)")
        case .exit(let code):
            logger.info("exiting", metadata: ["code": "\(code)"])
            onExit(code)
        }
    }

    private func send(_ signal: Int32, to recipient: SupervisorStateMachine.Recipient) {
        switch recipient {
        case .group(let group):
            if ProcessControl.send(signal, to: -group) != 0 { ProcessControl.send(signal, to: group) }
        case .process(let pid):
            ProcessControl.send(signal, to: pid)
        }
    }

    private func terminate(_ leftovers: SupervisorStateMachine.Leftovers) {
        let group = leftovers.group
        switch leftovers {
        case .group:
            if ProcessControl.groupExists(group) {
                logger.info("terminating what the app left in its process group")
                ProcessControl.send(15, to: -group)
            }
        case .everything:
            // Nothing new may start now: no more check runs, and the running ones end.
            onFinalCleanup()
            if ProcessControl.groupExists(group) { ProcessControl.send(15, to: -group) }
            let others = ProcessTable.children(of: ProcessControl.pid) ?? []
            if ProcessControl.groupExists(group) || !others.isEmpty {
                logger.info("terminating what the app left behind", metadata: ["processes": "\(others.count)"])
            }
            terminated = Set(others)
            for pid in others { ProcessControl.send(15, to: pid) }
        }
    }

    /// Polls until the leftovers are gone; descendants that appear meanwhile (orphans of the
    /// ones just stopped) get their SIGTERM too.
    private func watchUntilGone(_ leftovers: SupervisorStateMachine.Leftovers) {
        groupWatch?.cancel()
        var remaining = ProcessControl.groupExists(leftovers.group)
        if case .everything = leftovers, let children = ProcessTable.children(of: ProcessControl.pid) {
            for pid in children where !terminated.contains(pid) {
                terminated.insert(pid)
                ProcessControl.send(15, to: pid)
            }
            remaining = remaining || !children.isEmpty
        }
        guard remaining else {
            groupWatch = nil
            perform(machine.handle(.leftoversGone))
            return
        }
        groupWatch = loop.assumeIsolated().scheduleTask(in: .milliseconds(20)) { self.watchUntilGone(leftovers) }
    }

    // MARK: - The app

    private func spawnApp() {
        var request = SpawnRequest(arguments: command)
        request.takeTerminal = true
        request.extraDescriptor = extraDescriptor()
        let restarting = machine.restarts > 0
        let this = NIOLoopBound(self, eventLoop: loop)
        let result = registry.spawn(request, inherited: inherited) { [loop] termination in
            loop.execute { this.value.appExited(termination) }
        }
        if let extra = request.extraDescriptor { Pipes.close(extra.fd) }  // the app holds its copy
        switch result {
        case .success(let pid):
            logger.info("started the app", metadata: ["pid": "\(pid)", "command": "\(command[0])"])
            if restarting {
                checks.appRestarted()
                health.resetForRestart()
            }
            health.setProcessRunning(true)
            perform(machine.handle(.started(pid: pid)))
        case .failure(let error):
            let termination = Termination.spawnFailed(errno: error.errno)
            lastExitCode = termination.exitCode
            let what = termination.exitCode == 127 ? "command not found" : "not executable"
            logger.error("\(command[0]): \(what) (\(error))")
            perform(machine.handle(.childExited(termination, readyFor: .zero, at: now)))
        }
    }

    private func appExited(_ termination: Termination) {
        lastExitCode = termination.exitCode
        let actions = machine.handle(.childExited(termination, readyFor: health.readyFor, at: now))
        drain.cancel()
        health.setProcessRunning(false)
        perform(actions)
    }
}

extension SupervisorStateMachine.Leftovers {
    var group: Int32 {
        switch self {
        case .group(let group), .everything(let group): group
        }
    }
}

extension SupervisorStateMachine.Recipient {
    /// As `VIGIL_SIGNAL_TARGET` names it, for the log.
    var word: String {
        switch self {
        case .group: SignalTarget.group.rawValue
        case .process: SignalTarget.child.rawValue
        }
    }
}
