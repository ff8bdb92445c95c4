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
    /// `VIGIL_USER`, resolved: vigil drops to it once its listeners are bound.
    let runAs: ResolvedUser?

    public init(
        configuration: Configuration, command: [String], inherited: InheritedSignalState, logger: Logger,
        runAs: ResolvedUser? = nil
    ) {
        self.configuration = configuration
        self.command = command
        self.inherited = inherited
        self.logger = logger
        self.runAs = runAs
    }

    /// Never returns: vigil exits from the event loop with the app's code.
    public func run() -> Never {
        // Before any thread exists: the notify socket, and its name in the environment the app inherits.
        let notifySocket = configuration.notify ? Self.openNotifySocket(configuration) : nil
        if let proxy = configuration.proxy {
            // Two descriptors per client connection (its own and the app's), and room for the rest.
            let limit = ResourceLimits.raiseOpenFiles(to: proxy.maxConnections * 2 + 1024)
            logger.debug("open files limit", metadata: ["soft": "\(limit.map(String.init) ?? "unknown")"])
        }
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
        do {
            try loop.flatSubmit { parts.value.bindFrontDoor() }.wait()
        } catch {
            let problem = ConfigurationProblem(
                variable: "VIGIL_PROXY_LISTEN", value: configuration.proxy.map { ListenText.format($0.listen) },
                message: "cannot listen: \(CheckExecutor.describe(error))", example: "VIGIL_PROXY_LISTEN=:8080")
            Files.writeAll(2, Array("vigil: error: \(problem)\n".utf8))
            exit(2)
        }
        // Listeners bound, nothing started: nothing in the container stays root from here on.
        if let runAs, Privileges.needsSwitch(to: runAs) {
            do {
                try Privileges.drop(to: runAs)
                logger.info("running as", metadata: ["uid": "\(runAs.uid)", "gid": "\(runAs.gid)"])
            } catch {
                let problem = ConfigurationProblem(
                    variable: "VIGIL_USER", value: runAs.name ?? "\(runAs.uid)",
                    message: "cannot switch to uid \(runAs.uid) gid \(runAs.gid): \(error)",
                    example: "VIGIL_USER=1000:1000")
                Files.writeAll(2, Array("vigil: error: \(problem)\n".utf8))
                exit(2)
            }
        }
        if let notifySocket, let bound = try? loop.submit({ NIOLoopBound(parts.value.notify!, eventLoop: loop) }).wait()
        {
            NotifyListener.startReading(notifySocket, loop: loop, bound: bound)
        }
        loop.execute { parts.value.start() }
        SignalLoop(registry: registry) { signal, sender in
            loop.execute { parts.value.supervisor.received(signal, from: sender) }
        }.run()
    }
}

extension Agent {
    /// `@vigil-notify-<pid>`, given to the app as `NOTIFY_SOCKET` (and `WATCHDOG_USEC`); exit 2
    /// when it cannot be made.
    static func openNotifySocket(_ configuration: Configuration) -> NotifySocket {
        do {
            let socket = try NotifySocket.open(name: "vigil-notify-\(getpid())")
            setenv("NOTIFY_SOCKET", socket.address, 1)
            if let watchdog = configuration.notifyWatchdog {
                setenv("WATCHDOG_USEC", String(watchdog.milliseconds * 1000), 1)
            }
            return socket
        } catch {
            let problem = ConfigurationProblem(
                variable: "VIGIL_NOTIFY", value: "true", message: "cannot open the notify socket: \(error)",
                example: "VIGIL_NOTIFY=false")
            Files.writeAll(2, Array("vigil: error: \(problem)\n".utf8))
            exit(2)
        }
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
    /// The front door, with `VIGIL_PROXY_LISTEN`.
    let door: FrontDoor?
    /// sd_notify, with `VIGIL_NOTIFY=true`.
    let notify: NotifyListener?
    /// vigil's start, for `process_start_time_seconds`.
    let startedAtWallMilliseconds = Clock.wallMilliseconds

    init(_ agent: Agent, loop: EventLoop, registry: ChildRegistry) {
        let configuration = agent.configuration
        let logger = agent.logger
        self.loop = loop
        self.configuration = configuration
        self.logger = logger
        health = HealthMonitor(
            checks: configuration.checks, minReady: configuration.minReady,
            notify: configuration.announcesReadiness ? NotifyFact(watchdog: configuration.notifyWatchdog) : nil,
            loop: loop,
            logger: logger)
        execProcesses = ExecCheckProcesses(registry: registry, inherited: agent.inherited)
        let resolver = AddressResolver(threadPool: ResolverThreads().pool)
        let executor = CheckExecutor(loop: loop, resolver: resolver, processes: execProcesses)
        checks = CheckScheduler(loop: loop, health: health, logger: logger, runner: executor.run)
        supervisor = AppSupervisor(
            settings: .init(configuration), command: agent.command, probesServed: configuration.listen != nil,
            loop: loop, logger: logger, registry: registry, inherited: agent.inherited, health: health,
            checks: checks, drain: DrainWatcher(loop: loop, ports: configuration.drainPorts, logger: logger))
        server = configuration.listen.map { _ in ProbeServer(loop: loop, limits: .init(), logger: logger) }
        door = configuration.proxy.map { FrontDoor(loop: loop, settings: $0, resolver: resolver, logger: logger) }
        notify =
            configuration.announcesReadiness
            ? NotifyListener(
                loop: loop, health: health, logger: logger, appGroup: { [unowned supervisor] in supervisor.appPid })
            : nil
        if let target = configuration.notifyFD, let notify {
            supervisor.extraDescriptor = { [unowned notify] in notify.readinessDescriptor(as: target) }
        }
        health.onLivenessFailed = { [unowned supervisor] in supervisor.livenessFailed() }
        supervisor.onExit = { [unowned self] code in self.exit(code) }
        supervisor.onFinalCleanup = { [unowned self] in
            self.checks.stop()
            self.execProcesses.stopAll()
        }
        server?.host = self
        if let door {
            door.host = self
            supervisor.frontDoor = door
            health.onDrainingChanged = { [unowned door] draining in
                if draining { door.beginClosing() } else { door.resumeServing() }
            }
        }
    }

    func bindProbeServer() -> EventLoopFuture<Void> {
        guard let server, let address = configuration.listen else { return loop.makeSucceededVoidFuture() }
        return server.bind(address).assumeIsolated().map { port in
            let shown = ListenText.format(HostPort(host: address.host, port: port))
            self.logger.info("probe server listening", metadata: ["address": "\(shown)"])
        }.nonisolated()
    }

    func bindFrontDoor() -> EventLoopFuture<Void> {
        guard let door else { return loop.makeSucceededVoidFuture() }
        return door.bind().assumeIsolated().map { port in
            let shown = ListenText.format(HostPort(host: door.settings.listen.host, port: port))
            self.logger.info(
                "front door listening",
                metadata: [
                    "address": "\(shown)", "upstream": "\(door.settings.upstream)", "mode": "\(door.settings.mode)",
                ])
        }.nonisolated()
    }

    func start() {
        supervisor.start()
        checks.start()
    }

    private func exit(_ code: Int32) -> Never {
        execProcesses.stopAll()
        server?.close()
        door?.close()
        // _exit: every line vigil writes went out with write(2), so nothing is buffered, and the
        // runtime's exit-time destructors would only cost time at every container stop.
        Glibc._exit(code)
    }
}

extension AgentParts: ProbeServerHost {
    func snapshot() -> AgentSnapshot {
        var snapshot = AgentSnapshot(
            health: health.model, moment: health.now(), appPid: supervisor.appPid, restarts: supervisor.restarts,
            details: configuration.details, admin: configuration.admin, adminToken: configuration.adminToken)
        snapshot.identity = Identity(
            appVersion: configuration.version, startedAtWallMilliseconds: startedAtWallMilliseconds,
            lastExitCode: supervisor.lastExitCode)
        snapshot.door = door?.traffic
        return snapshot
    }

    func passes(_ probe: Probe) -> Bool { health.passes(probe) }

    func perform(_ command: AdminCommand) {
        switch command {
        case .startDrain: health.setDraining(.manual)
        case .cancelDrain: health.setDraining(nil)
        }
    }
}

extension AgentParts: FrontDoorHost {
    var appExpectedUp: Bool { health.model.processRunning && health.model.startupComplete }
    var appRun: Int { supervisor.restarts }
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
