import Logging
import NIOCore
import NIOPosix
import VigilCore
import VigilSystem

#if canImport(Glibc)
import Glibc
#endif

/// The composition root: builds the agent's parts on its one event loop, binds the probe server,
/// starts the app and the checks, then turns the calling thread into the signal loop.
///
/// Concurrency: every part is a non-`Sendable` class confined to `loop`; they call each other
/// directly and schedule work with `loop.assumeIsolated()`. Other threads (the signal loop, the
/// reaper's waiters) reach them only through `NIOLoopBound` and `loop.execute`.
public struct Agent: Sendable {
    let configuration: Configuration
    let command: [String]
    let inherited: InheritedSignalState
    let logger: Logger

    public init(configuration: Configuration, command: [String], inherited: InheritedSignalState, logger: Logger) {
        self.configuration = configuration
        self.command = command
        self.inherited = inherited
        self.logger = logger
    }

    /// Never returns: vigil exits from the event loop with the app's code.
    public func run() -> Never {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let logger = logger
        let registry = ChildRegistry { pid, termination in
            logger.debug("reaped an orphan", metadata: ["pid": "\(pid)", "status": "\(termination)"])
        }
        let agent = self
        let parts: NIOLoopBound<AgentParts>
        do {
            parts = try loop.submit {
                NIOLoopBound(AgentParts(agent, loop: loop, registry: registry), eventLoop: loop)
            }.wait()
            // Binding from this thread: the loop must never wait on itself.
            try loop.flatSubmit { parts.value.bindProbeServer() }.wait()
        } catch {
            // Reported like a configuration problem: it is one, and nothing has started yet.
            let problem = ConfigurationProblem(
                variable: "VIGIL_LISTEN", value: configuration.listen.map(ListenText.format) ?? "off",
                message: "cannot listen: \(CheckExecutor.describe(error))", example: "VIGIL_LISTEN=:7979")
            Files.writeAll(2, Array("vigil: error: \(problem)\n".utf8))
            exit(2)
        }
        loop.execute { parts.value.start() }
        SignalLoop(registry: registry) { signal, sender in
            loop.execute { parts.value.supervisor.received(signal, from: sender) }
        }.run()
    }
}

/// The agent's parts, wired together. Event-loop confined.
final class AgentParts {
    let loop: EventLoop
    let configuration: Configuration
    let logger: Logger
    let health: HealthMonitor
    let checks: CheckScheduler
    let supervisor: AppSupervisor
    let execProcesses: ExecCheckProcesses
    let server: ProbeServer?

    init(_ agent: Agent, loop: EventLoop, registry: ChildRegistry) {
        let configuration = agent.configuration
        let logger = agent.logger
        self.loop = loop
        self.configuration = configuration
        self.logger = logger
        health = HealthMonitor(
            checks: configuration.checks, minReady: configuration.minReady, loop: loop, logger: logger)
        execProcesses = ExecCheckProcesses(registry: registry, inherited: agent.inherited)
        let executor = CheckExecutor(
            loop: loop, resolver: AddressResolver(threadPool: ResolverThreads().pool), processes: execProcesses)
        checks = CheckScheduler(loop: loop, health: health, logger: logger, runner: executor.run)
        supervisor = AppSupervisor(
            settings: .init(configuration), command: agent.command, probesServed: configuration.listen != nil,
            loop: loop, logger: logger, registry: registry, inherited: agent.inherited, health: health,
            checks: checks, drain: DrainWatcher(loop: loop, ports: configuration.drainPorts, logger: logger))
        server = configuration.listen.map { _ in ProbeServer(loop: loop, limits: .init(), logger: logger) }
        health.onLivenessFailed = { [unowned supervisor] in supervisor.livenessFailed() }
        supervisor.onExit = { [unowned self] code in self.exit(code) }
        supervisor.onFinalCleanup = { [unowned self] in
            self.checks.stop()
            self.execProcesses.stopAll()
        }
        server?.host = self
    }

    func bindProbeServer() -> EventLoopFuture<Void> {
        guard let server, let address = configuration.listen else { return loop.makeSucceededVoidFuture() }
        return server.bind(address).assumeIsolated().map { port in
            let shown = ListenText.format(HostPort(host: address.host, port: port))
            self.logger.info("probe server listening", metadata: ["address": "\(shown)"])
        }.nonisolated()
    }

    func start() {
        supervisor.start()
        checks.start()
    }

    private func exit(_ code: Int32) -> Never {
        execProcesses.stopAll()
        server?.close()
        Glibc.exit(code)
    }
}

extension AgentParts: ProbeServerHost {
    func snapshot() -> AgentSnapshot {
        AgentSnapshot(
            health: health.model, moment: health.now(), appPid: supervisor.appPid, restarts: supervisor.restarts,
            details: configuration.details, admin: configuration.admin, adminToken: configuration.adminToken)
    }

    func passes(_ probe: Probe) -> Bool { health.passes(probe) }

    func perform(_ command: AdminCommand) {
        switch command {
        case .startDrain: health.setDraining(.manual)
        case .cancelDrain: health.setDraining(nil)
        }
    }
}

/// The thread pool for getaddrinfo, started on first use: most configurations never need it,
/// and a thread costs start-up time. Event-loop confined.
private final class ResolverThreads {
    private var started: NIOThreadPool? = nil

    func pool() -> NIOThreadPool {
        if let started { return started }
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        started = pool
        return pool
    }
}
