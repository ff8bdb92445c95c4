import Logging
import NIOCore
import NIOPosix
import VigilCore
import VigilSystem

/// The running agent: owns the health model and the supervisor state machine, performs their
/// actions, runs the checks and the probe server. All its state lives on one event loop; the
/// signal loop (main thread) only posts events to it.
public final class Agent {
    let configuration: Configuration
    let command: [String]
    let inherited: InheritedSignalState
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let loop: EventLoop
    /// For getaddrinfo off the event loop; event-loop confined, created on first use.
    private var threadPool: NIOThreadPool? = nil
    let registry: ChildRegistry

    private var health: HealthModel
    private var supervisor: SupervisorStateMachine
    private var server: ProbeServer? = nil
    private var executor: CheckExecutor! = nil
    private var execProcesses: ExecCheckProcesses! = nil
    private var timers: [SupervisorStateMachine.Timer: Scheduled<Void>] = [:]
    private var minReadyTimer: Scheduled<Void>? = nil
    private var appPid: Int32? = nil
    private var readySince: Int64? = nil
    private var drainWatch: RepeatedTask? = nil
    private var groupWatch: RepeatedTask? = nil
    private var lastDrainCount: Int? = nil
    private var checkGeneration = 0

    public init(configuration: Configuration, command: [String], inherited: InheritedSignalState, logger: Logger) {
        self.configuration = configuration
        self.command = command
        self.inherited = inherited
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.loop = group.next()
        let logger = logger
        self.registry = ChildRegistry { pid, termination in
            logger.debug("reaped an orphan", metadata: ["pid": "\(pid)", "status": "\(termination)"])
        }
        self.health = HealthModel(checks: configuration.checks, minReady: configuration.minReady, at: Self.now())
        self.supervisor = SupervisorStateMachine(settings: .init(configuration))
    }

    static func now() -> Moment {
        Moment(monotonicMilliseconds: Clock.monotonicMilliseconds, wallMilliseconds: Clock.wallMilliseconds)
    }

    /// Binds the probe server, starts the checks and the app, then turns the calling thread into
    /// the signal loop. Never returns: vigil exits from the event loop with the app's code.
    public func run() -> Never {
        do {
            try startServer()  // from this thread: binding waits, which the loop must never do
        } catch {
            // Reported like a configuration problem: it is one, and nothing has started yet.
            let problem = ConfigurationProblem(
                variable: "VIGIL_LISTEN", value: configuration.listen.map(ListenText.format) ?? "off",
                message: "cannot listen: \(CheckExecutor.describe(error))", example: "VIGIL_LISTEN=:7979")
            Files.writeAll(2, Array("vigil: error: \(problem)\n".utf8))
            Self.exitNow(2)
        }
        loop.execute {
            self.execProcesses = ExecCheckProcesses(registry: self.registry, inherited: self.inherited)
            self.executor = CheckExecutor(loop: self.loop, resolver: AddressResolver(threadPool: { [unowned self] in self.resolverThreadPool() }), processes: self.execProcesses)
            self.perform(self.supervisor.start())
            self.startChecks()
        }
        SignalLoop(registry: registry) { signal, sender in
            self.loop.execute { self.received(signal, from: sender) }
        }.run()
    }

    private func resolverThreadPool() -> NIOThreadPool {
        if let threadPool { return threadPool }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        threadPool = pool
        return pool
    }

    // MARK: - Probe server

    private func startServer() throws {
        guard let address = configuration.listen else { return }
        let server = ProbeServer(
            loop: loop, limits: .init(), logger: logger,
            snapshot: { [unowned self] in self.snapshot() },
            passes: { [unowned self] probe in self.health.passes(probe, at: Self.now()) },
            perform: { [unowned self] command in
                switch command {
                case .startDrain: self.apply(self.health.setDraining(.manual, at: Self.now()))
                case .cancelDrain: self.apply(self.health.setDraining(nil, at: Self.now()))
                }
            })
        try server.bind(address)
        logger.info("probe server listening", metadata: ["address": "\(ListenText.format(HostPort(host: address.host, port: server.boundPort ?? address.port)))"])
        self.server = server
    }

    func snapshot() -> AgentSnapshot {
        AgentSnapshot(
            health: health, moment: Self.now(), appPid: appPid, restarts: supervisor.restarts,
            details: configuration.details, admin: configuration.admin, adminToken: configuration.adminToken)
    }

    // MARK: - Signals

    private func received(_ signal: Int32, from sender: Int32) {
        logger.debug("received \(SignalNames.name(signal))", metadata: ["from": "\(sender)"])
        if signal == 15 {
            let ready = configuration.listen == nil || health.evaluate(.ready, at: Self.now()).passed
            perform(supervisor.handle(.stopRequested(instanceReady: ready)))
        } else {
            perform(supervisor.handle(.signal(signal)))
        }
    }

    // MARK: - Supervisor actions

    private func perform(_ actions: [SupervisorStateMachine.Action]) {
        for action in actions { perform(action) }
    }

    private func perform(_ action: SupervisorStateMachine.Action) {
        switch action {
        case .spawn:
            spawnApp()
        case .forward(let signal):
            signalApp(signal)
        case .sendStopSignal(let signal):
            logger.info("sending \(SignalNames.name(signal)) to the app", metadata: ["target": "\(configuration.signalTarget.rawValue)"])
            signalApp(signal)
        case .killGroup:
            if let pgid = appPid ?? lastPgid {
                ProcessControl.send(9, to: -pgid)
                ProcessControl.send(9, to: pgid)
            }
        case .terminateLeftovers:
            if let pgid = lastPgid, ProcessControl.groupExists(pgid) {
                logger.info("terminating what the app left in its process group")
                ProcessControl.send(15, to: -pgid)
            }
        case .watchGroupUntilEmpty:
            groupWatch?.cancel()
            groupWatch = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(20)) { [unowned self] task in
                if let pgid = self.lastPgid, ProcessControl.groupExists(pgid) { return }
                task.cancel()
                self.groupWatch = nil
                self.perform(self.supervisor.handle(.groupEmpty))
            }
        case .watchDrainConnections:
            watchDrainConnections()
        case .setDraining:
            apply(health.setDraining(.shuttingDown, at: Self.now()))
        case .schedule(let timer, let delay):
            timers[timer]?.cancel()
            timers[timer] = loop.scheduleTask(in: .milliseconds(delay.milliseconds)) { [unowned self] in
                self.timers[timer] = nil
                self.perform(self.supervisor.handle(.timerFired(timer)))
            }
        case .cancel(let timer):
            timers.removeValue(forKey: timer)?.cancel()
        case .log(let message):
            logger.info("\(message)")
        case .exit(let code):
            logger.info("exiting", metadata: ["code": "\(code)"])
            execProcesses?.killAll()
            server?.close()
            Self.exitNow(code)
        }
    }

    /// The app's process group id, kept after it exits for cleaning up leftovers.
    private var lastPgid: Int32? = nil

    private func spawnApp() {
        var request = SpawnRequest(arguments: command)
        request.takeTerminal = true
        let result = registry.spawn(request, inherited: inherited) { [unowned self] termination in
            self.loop.execute { self.appExited(termination) }
        }
        switch result {
        case .success(let pid):
            appPid = pid
            lastPgid = pid
            logger.info("started the app", metadata: ["pid": "\(pid)", "command": "\(command[0])"])
            if supervisor.restarts > 0 { apply(health.resetForRestart(at: Self.now())) }
            apply(health.setProcessRunning(true, at: Self.now()))
            perform(supervisor.handle(.started(pid: pid)))
        case .failure(let error):
            let termination = Termination.spawnFailed(errno: error.errno)
            logger.error("\(command[0]): \(termination.exitCode == 127 ? "command not found" : "not executable") (\(error))")
            perform(supervisor.handle(.childExited(termination, readyFor: .zero)))
        }
    }

    private func appExited(_ termination: Termination) {
        let now = Self.now()
        let readyFor = readySince.map { Duration.milliseconds(now.monotonicMilliseconds - $0) } ?? .zero
        appPid = nil
        let actions = supervisor.handle(.childExited(termination, readyFor: readyFor))
        apply(health.setProcessRunning(false, at: now))
        perform(actions)
    }

    private func signalApp(_ signal: Int32) {
        guard let pid = appPid else { return }
        if configuration.signalTarget == .group, ProcessControl.send(signal, to: -pid) == 0 { return }
        ProcessControl.send(signal, to: pid)
    }

    private func watchDrainConnections() {
        let ports = Set(configuration.drainPorts)
        drainWatch?.cancel()
        drainWatch = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(100)) { [unowned self] task in
            guard self.supervisor.isStopping, self.appPid != nil else { task.cancel(); return }
            var count = 0
            for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
                if let bytes = Files.read(path) {
                    count += ProcNetTCP.establishedConnections(in: bytes, localPorts: ports)
                }
            }
            if count != self.lastDrainCount {
                self.logger.info("drain: waiting for connections to close", metadata: ["open": "\(count)", "ports": "\(self.configuration.drainPorts.map(String.init).joined(separator: ","))"])
                self.lastDrainCount = count
            }
            if count == 0 {
                task.cancel()
                self.perform(self.supervisor.handle(.connectionsClosed))
            }
        }
    }

    // MARK: - Health

    private func apply(_ events: [HealthEvent]) {
        for event in events {
            switch event {
            case .checkChanged(let name, let from, let to, let message):
                let metadata: Logger.Metadata = ["check": "\(name)", "from": "\(from.rawValue)", "reason": "\(message)"]
                if to == .failing { logger.warning("check \(name) is \(to.rawValue)", metadata: metadata) }
                else { logger.info("check \(name) is \(to.rawValue)", metadata: metadata) }
            case .probeChanged(let probe, let passed):
                // While the app is down its exit was logged; the probes failing with it are no news.
                if health.processRunning || passed { logger.info("\(probe.rawValue) \(passed ? "passes" : "fails")") }
                if probe == .ready { readySince = passed ? Clock.monotonicMilliseconds : nil }
                // As kubelet: liveness counts only once startup completed (slow starters are not killed).
                if probe == .live && !passed && health.processRunning && health.startupComplete {
                    perform(supervisor.handle(.livenessFailed))
                }
            case .startupCompleted:
                logger.info("startup complete")
            }
        }
        scheduleMinReadyTick()
    }

    private func scheduleMinReadyTick() {
        minReadyTimer?.cancel()
        minReadyTimer = nil
        guard let deadline = health.nextDeadline else { return }
        let delay = max(0, deadline - Clock.monotonicMilliseconds)
        if health.evaluate(.ready, at: Self.now()).passed { return }
        minReadyTimer = loop.scheduleTask(in: .milliseconds(delay + 1)) { [unowned self] in
            self.minReadyTimer = nil
            self.apply(self.health.tick(at: Self.now()))
        }
    }

    private func startChecks() {
        for (index, check) in health.checks.enumerated() {
            let spec = check.spec
            loop.scheduleTask(in: .milliseconds(spec.delay.milliseconds)) { [unowned self] in
                self.runCheck(index, spec)
            }
        }
    }

    private func runCheck(_ index: Int, _ spec: CheckSpec) {
        let started = Clock.monotonicMilliseconds
        executor.run(spec).whenSuccess { [unowned self] result in
            self.logger.debug("check \(spec.name) ran", metadata: ["passed": "\(result.passed)", "message": "\(result.message)"])
            self.apply(self.health.record(result, forCheck: index, at: Self.now()))
            let elapsed = Clock.monotonicMilliseconds - started
            let wait = max(0, spec.interval.milliseconds - elapsed)
            self.loop.scheduleTask(in: .milliseconds(wait)) { self.runCheck(index, spec) }
        }
    }

    static func exitNow(_ code: Int32) -> Never {
        exit(code)
    }
}
