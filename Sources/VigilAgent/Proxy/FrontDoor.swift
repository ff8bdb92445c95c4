import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import VigilCore

/// What the door asks of the agent.
protocol FrontDoorHost: AnyObject {
    /// Whether the app should be taking connections now: running, and its startup complete.
    var appExpectedUp: Bool { get }
    /// Which run of the app this is (0, then one more per in-place restart).
    var appRun: Int { get }
}

/// The front door (`VIGIL_PROXY_*`): accepts the app's clients and forwards them, so that the
/// drain can finish each request and close each connection itself, and a restart can hold
/// requests instead of refusing them. Event-loop confined.
final class FrontDoor {
    let loop: EventLoop
    let settings: ProxyConfiguration
    let logger: Logger
    let pool: UpstreamPool
    weak var host: FrontDoorHost?
    private(set) var traffic = DoorTraffic()
    let connections: ConnectionTable
    private var listeners: [Channel] = []
    private var onQuiet: (() -> Void)? = nil

    init(loop: EventLoop, settings: ProxyConfiguration, resolver: AddressResolver, logger: Logger) {
        self.loop = loop
        self.settings = settings
        self.logger = logger
        self.connections = ConnectionTable(limit: settings.maxConnections)
        self.pool = UpstreamPool(
            loop: loop, upstream: settings.upstream, resolver: resolver,
            connectTimeout: .milliseconds(min(settings.timeout.milliseconds, 5_000)))
    }

    /// The run of the app that last accepted a connection from the door.
    private var answeredRun: Int? = nil

    /// While the app is not up, or has not accepted a connection since it (re)started (it may
    /// still be binding its port), a refused connection waits instead of getting 502.
    var appExpectedUp: Bool {
        guard let host else { return true }
        return host.appExpectedUp && answeredRun == host.appRun
    }

    func appAnswered() { answeredRun = host?.appRun }

    // MARK: - Listening

    /// Binds the door's port; the future gives the bound port. Call on the event loop.
    func bind() -> EventLoopFuture<Int> {
        let address = settings.listen
        let this = NIOLoopBound(self, eventLoop: loop)
        let loop = self.loop
        return Listening.bind(address) { Self.bootstrap(loop, this) }.assumeIsolated().map { channel in
            self.listeners.append(channel)
            return channel.localAddress?.port ?? address.port
        }.nonisolated()
    }

    private static func bootstrap(_ loop: EventLoop, _ door: NIOLoopBound<FrontDoor>) -> ServerBootstrap {
        ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: 4096)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: door.value.settings.mode == .tcp)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try door.value.initialize(channel) }
            }
    }

    /// Sets up one accepted client connection.
    func initialize(_ channel: Channel) throws {
        let state = ConnectionState(channel: channel)
        guard connections.admit(state) else {
            channel.close(promise: nil)
            return
        }
        traffic.connections += 1
        channel.closeFuture.assumeIsolated().whenComplete { [unowned self] _ in
            self.connections.remove(state)
            self.traffic.connections -= 1
        }
        switch settings.mode {
        case .tcp:
            openTunnel(for: channel)
        case .http:
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderListSize = settings.headerBytes
            limits.maxHeaderFieldSize = settings.headerBytes
            limits.maxHeaderFieldCount = 200
            var encoder = HTTPResponseEncoder.Configuration()
            encoder.automaticallySetFramingHeaders = false
            let sync = channel.pipeline.syncOperations
            try sync.addHandler(ByteArrivalHandler(state: state), position: .first)
            try sync.configureHTTPServerPipeline(
                withPipeliningAssistance: true, withServerUpgrade: nil, withErrorHandling: false,
                withOutboundHeaderValidation: false, withEncoderConfiguration: encoder,
                withDecoderLimitConfiguration: limits)
            try sync.addHandler(ProtocolErrorHandler())
            try sync.addHandler(DoorConnection(door: self, state: state))
        }
    }

    /// tcp mode: one connection to the app per client, bytes both ways.
    private func openTunnel(for client: Channel) {
        client.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        DoorDispatch(door: self, deadline: loop.now + .milliseconds(settings.timeout.milliseconds)) {
            self.pool.connect(http: false)
        }.run { result in
            switch result {
            case .success(let app):
                guard client.isActive else {
                    app.close(promise: nil)
                    return
                }
                self.joinTunnel(client: client, app: app)
                client.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            case .failure:
                client.close(promise: nil)
            }
        }
    }

    /// Joins a client and an app channel into a tunnel, counted until either side closes.
    @discardableResult
    func joinTunnel(client: Channel, app: Channel) -> Bool {
        let (clientSide, appSide) = TunnelHandler.pair()
        do {
            try client.pipeline.syncOperations.addHandler(clientSide)
            try app.pipeline.syncOperations.addHandler(appSide)
        } catch {
            client.close(promise: nil)
            app.close(promise: nil)
            return false
        }
        traffic.tunnels += 1
        clientSide.onClosed = { [unowned self] in
            self.traffic.tunnels -= 1
            self.checkQuiet()
        }
        return true
    }

    // MARK: - Counting

    func requestStarted() { traffic.inFlight += 1 }

    func requestEnded(status: Int?, startedAt: NIODeadline) {
        traffic.inFlight -= 1
        if let status {
            let milliseconds = (loop.now - startedAt).nanoseconds / 1_000_000
            traffic.recordResponse(status: status, milliseconds: milliseconds)
        }
        checkQuiet()
    }

    func waitingChanged(by delta: Int) {
        traffic.waiting += delta
        if delta < 0 { checkQuiet() }
    }

    /// Whether a new request may join the wait for the app.
    var mayWait: Bool { traffic.waiting < settings.queueLimit }

    // MARK: - The drain

    /// Readiness fails: keep accepting, and close every connection after its next response.
    /// Idle keep-alive connections stay open for now: closing one races with the request its
    /// client may be sending on it at that moment, which then fails. A client still sending gets
    /// its `Connection: close` with the next response and reconnects through the balancer.
    func beginClosing() {
        guard traffic.phase == .serving else { return }
        traffic.phase = .closing
        logger.info("front door: closing client connections after their responses")
    }

    /// A drain cancelled (`DELETE /drain`): keep-alive again.
    func resumeServing() {
        if traffic.phase == .closing { traffic.phase = .serving }
    }

    /// The drain delay is over: stop accepting; `onQuiet` once nothing is in flight. Idle client
    /// connections stay until vigil exits: a request that still comes on one is answered (with
    /// `Connection: close`) while the app runs, where closing it would fail that request.
    func finish(onQuiet: @escaping () -> Void) {
        traffic.phase = .finishing
        for listener in listeners { listener.close(promise: nil) }
        listeners.removeAll()
        pool.closeIdle()
        self.onQuiet = onQuiet
        logger.info(
            "front door: no longer accepting; waiting for requests and tunnels",
            metadata: ["in_flight": "\(traffic.inFlight)", "tunnels": "\(traffic.tunnels)"])
        checkQuiet()
    }

    /// Whether a response now ends its client connection.
    var closesConnections: Bool { traffic.phase != .serving }

    private func checkQuiet() {
        guard traffic.isQuiet, let onQuiet else { return }
        self.onQuiet = nil
        onQuiet()
    }

    func close() {
        for listener in listeners { listener.close(promise: nil) }
        pool.closeIdle()
    }
}

/// Marks when the bytes of a request's head began to arrive, for the header deadline.
final class ByteArrivalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    let state: ConnectionState

    init(state: ConnectionState) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !state.busy && state.headStartedAt == nil { state.headStartedAt = context.eventLoop.now }
        context.fireChannelRead(data)
    }
}
