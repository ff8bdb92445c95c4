import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import VigilCore

/// What the probe server answers from: the agent's state, read on the event loop.
protocol ProbeServerHost: AnyObject {
    func snapshot() -> AgentSnapshot
    /// `HealthModel.passes` now, for the bare-probe fast path.
    func passes(_ probe: Probe) -> Bool
    func perform(_ command: AdminCommand)
}

/// The HTTP face of vigil on `VIGIL_LISTEN`. Answers from the agent's cached state on the event
/// loop (never waits on a check), with bounded headers, a connection limit and request deadlines.
/// Event-loop confined.
final class ProbeServer {
    struct Limits {
        /// Total header bytes per request; more gets 431.
        var headerBytes = 16 * 1024
        /// Open connections at once; at the limit the longest-idle connection makes room.
        var connections = 512
        /// A connection must complete a request within this of opening or of its last response.
        var requestDeadline: TimeAmount = .seconds(5)
    }

    let loop: EventLoop
    let limits: Limits
    let logger: Logger
    weak var host: ProbeServerHost?
    let connections: ConnectionTable
    private var channels: [Channel] = []

    init(loop: EventLoop, limits: Limits, logger: Logger) {
        self.loop = loop
        self.limits = limits
        self.logger = logger
        self.connections = ConnectionTable(limit: limits.connections)
    }

    /// Binds the listening socket; the future gives the bound port. Call on the event loop.
    func bind(_ address: HostPort) -> EventLoopFuture<Int> {
        let this = NIOLoopBound(self, eventLoop: loop)
        let loop = self.loop
        return Listening.bind(address) { Self.bootstrap(loop, this) }.assumeIsolated().map { channel in
            self.channels.append(channel)
            return channel.localAddress?.port ?? address.port
        }.nonisolated()
    }

    private static func bootstrap(_ loop: EventLoop, _ server: NIOLoopBound<ProbeServer>) -> ServerBootstrap {
        ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try server.value.initialize(channel) }
            }
    }

    func close() {
        for channel in channels { channel.close(promise: nil) }
    }

    /// Sets up one accepted connection's pipeline (also used by the in-process tests).
    func initialize(_ channel: Channel) throws {
        let state = ConnectionState(channel: channel)
        guard connections.admit(state) else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.assumeIsolated().whenComplete { [connections] _ in connections.remove(state) }
        var limitConfiguration = NIOHTTPDecoderLimitConfiguration()
        limitConfiguration.maxHeaderListSize = limits.headerBytes
        limitConfiguration.maxHeaderFieldSize = limits.headerBytes
        limitConfiguration.maxHeaderFieldCount = 100
        let sync = channel.pipeline.syncOperations
        try sync.configureHTTPServerPipeline(
            withPipeliningAssistance: true, withServerUpgrade: nil, withErrorHandling: false,
            // vigil writes only its own fixed headers: no need to validate them per response
            withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: limitConfiguration)
        try sync.addHandler(ProtocolErrorHandler())
        let isLoopback = channel.remoteAddress.map(Self.isLoopback) ?? false
        try sync.addHandler(ProbeHandler(server: self, state: state, isLoopback: isLoopback))
    }

    static func isLoopback(_ address: SocketAddress) -> Bool {
        guard let ip = address.ipAddress else { return address.protocol == .unix }
        return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
    }
}

/// Per-connection bookkeeping for the limit and the request deadline.
final class ConnectionState {
    let channel: Channel
    var busy = false
    var lastActivity: NIODeadline
    /// When the first bytes of a request head not yet complete arrived (the front door's header deadline).
    var headStartedAt: NIODeadline? = nil
    var deadline: Scheduled<Void>? = nil

    init(channel: Channel) {
        self.channel = channel
        self.lastActivity = channel.eventLoop.now
    }
}

/// Open connections, event-loop confined. At the limit, a new connection evicts the one idle the
/// longest, so that a flood of idle sockets cannot lock kubelet out of the probe port.
final class ConnectionTable {
    let limit: Int
    private var open: [ObjectIdentifier: ConnectionState] = [:]

    init(limit: Int) { self.limit = limit }

    var count: Int { open.count }

    func admit(_ state: ConnectionState) -> Bool {
        if open.count >= limit {
            let idle = open.values.filter { !$0.busy }
            guard let victim = idle.min(by: { $0.lastActivity < $1.lastActivity }) else { return false }
            open.removeValue(forKey: ObjectIdentifier(victim))
            victim.channel.close(promise: nil)
        }
        open[ObjectIdentifier(state)] = state
        return true
    }

    func remove(_ state: ConnectionState) { open.removeValue(forKey: ObjectIdentifier(state)) }
}
