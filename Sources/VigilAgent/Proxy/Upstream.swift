import NIOCore
import NIOHTTP1
import NIOPosix
import VigilCore

/// One connection from the door to the app: its channel and the handler at its end.
/// Event-loop confined.
struct UpstreamConnection {
    let channel: Channel
    let handler: UpstreamHandler

    /// The connection's handler, looked up on the event loop.
    init(_ channel: Channel) throws {
        self.channel = channel
        self.handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
    }
}

/// Hands the app's response parts to whichever exchange holds the connection now.
final class UpstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    var onPart: (HTTPClientResponsePart) -> Void = { _ in }
    var onClosed: () -> Void = {}
    var onWritable: () -> Void = {}
    var onReadComplete: () -> Void = {}
    /// Served an earlier request: the app may have closed it meanwhile (a stale keep-alive).
    var reused = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { onPart(unwrapInboundIn(data)) }

    func channelReadComplete(context: ChannelHandlerContext) { onReadComplete() }

    func channelInactive(context: ChannelHandlerContext) {
        let closed = onClosed
        onClosed = {}
        closed()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { onWritable() }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}

/// Keep-alive connections to the app, reused last-in first-out so that the fewest stay warm.
/// Event-loop confined.
final class UpstreamPool {
    private let loop: EventLoop
    private let upstream: ProxyConfiguration.Upstream
    private let resolver: AddressResolver
    private let connectTimeout: TimeAmount
    private let maxIdle: Int
    private var idle: [UpstreamConnection] = []

    init(
        loop: EventLoop, upstream: ProxyConfiguration.Upstream, resolver: AddressResolver, connectTimeout: TimeAmount,
        maxIdle: Int = 256
    ) {
        self.loop = loop
        self.upstream = upstream
        self.resolver = resolver
        self.connectTimeout = connectTimeout
        self.maxIdle = maxIdle
    }

    /// An idle connection, or a new one speaking HTTP/1.1.
    func acquire() -> EventLoopFuture<Channel> {
        if let channel = takeIdle() { return loop.makeSucceededFuture(channel) }
        return connect(http: true)
    }

    /// An idle connection still open, marked reused; nil when there is none.
    func takeIdle() -> Channel? {
        while let connection = idle.popLast() {
            if connection.channel.isActive {
                connection.handler.reused = true
                return connection.channel
            }
        }
        return nil
    }

    /// Back to the pool after a complete exchange; closed when the pool is full.
    func release(_ connection: UpstreamConnection) {
        guard connection.channel.isActive, idle.count < maxIdle else {
            connection.channel.close(promise: nil)
            return
        }
        connection.handler.onPart = { _ in }
        connection.handler.onWritable = {}
        connection.handler.onReadComplete = {}
        connection.handler.onClosed = { [unowned self] in
            self.idle.removeAll { $0.channel === connection.channel }
        }
        idle.append(connection)
    }

    func closeIdle() {
        for connection in idle { connection.channel.close(promise: nil) }
        idle.removeAll()
    }

    /// A connection to the app: with the HTTP/1.1 client codec, or bare for a tunnel.
    /// Replaces the socket connection (the in-process tests hand out `EmbeddedChannel`s, set up
    /// with `configure`).
    var connector: ((_ http: Bool) -> EventLoopFuture<Channel>)? = nil

    func connect(http: Bool) -> EventLoopFuture<Channel> {
        if let connector { return connector(http) }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: !http)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { if http { try Self.configure(channel) } }
            }
        switch upstream {
        case .unix(let path):
            return bootstrap.connect(unixDomainSocketPath: path)
        case .tcp(let address):
            if address.host != "localhost", let socket = try? SocketAddress(ipAddress: address.host, port: address.port)
            {
                return bootstrap.connect(to: socket)
            }
            return resolver.resolve(host: address.host, port: address.port, on: loop).assumeIsolated().flatMap {
                bootstrap.connect(to: $0)
            }.nonisolated()
        }
    }

    /// An HTTP/1.1 connection to the app: the codec, then the handler that reports to the exchange.
    static func configure(_ channel: Channel) throws {
        let sync = channel.pipeline.syncOperations
        // The door sets every framing header itself: the encoder must not add any.
        var encoder = HTTPRequestEncoder.Configuration()
        encoder.automaticallySetFramingHeaders = false
        try sync.addHandler(HTTPRequestEncoder(configuration: encoder))
        try sync.addHandler(
            ByteToMessageHandler(
                HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes, informationalResponseStrategy: .forward)))
        try sync.addHandler(UpstreamHandler())
    }
}
