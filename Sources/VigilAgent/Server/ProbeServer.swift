import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import VigilCore

/// The HTTP face of vigil on `VIGIL_LISTEN`. Answers from the agent's cached state on the event
/// loop (never waits on a check), with bounded headers, a connection limit and request deadlines.
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
    let snapshot: () -> AgentSnapshot
    /// `HealthModel.passes` now, for the bare-probe fast path.
    let passes: (Probe) -> Bool
    let perform: (AdminCommand) -> Void
    private let connections: ConnectionTable
    private var channels: [Channel] = []

    init(loop: EventLoop, limits: Limits, logger: Logger, snapshot: @escaping () -> AgentSnapshot,
         passes: @escaping (Probe) -> Bool, perform: @escaping (AdminCommand) -> Void) {
        self.loop = loop
        self.limits = limits
        self.logger = logger
        self.snapshot = snapshot
        self.passes = passes
        self.perform = perform
        self.connections = ConnectionTable(limit: limits.connections)
    }

    /// Binds the listening socket(s); throws when the address cannot be bound.
    func bind(_ address: HostPort) throws {
        let bootstrap = ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: 1024)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.initialize(channel) }
            }
        let host: String
        switch address.host {
        case "": host = "::"
        case "localhost": host = "127.0.0.1"
        default: host = address.host
        }
        do {
            channels.append(try bootstrap.bind(host: host, port: address.port).wait())
        } catch where address.host.isEmpty {
            // No IPv6 in this network namespace: all IPv4 interfaces then.
            channels.append(try bootstrap.bind(host: "0.0.0.0", port: address.port).wait())
        }
    }

    var boundPort: Int? { channels.first?.localAddress?.port }

    func close() {
        for channel in channels { channel.close(promise: nil) }
    }

    private func initialize(_ channel: Channel) throws {
        let state = ConnectionState(channel: channel)
        guard connections.admit(state) else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [connections] _ in connections.remove(state) }
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
    var lastActivity = NIODeadline.now()
    var deadline: Scheduled<Void>? = nil

    init(channel: Channel) { self.channel = channel }
}

/// Open connections, event-loop confined. At the limit, a new connection evicts the one idle the
/// longest, so that a flood of idle sockets cannot lock kubelet out of the probe port.
final class ConnectionTable {
    let limit: Int
    private var open: [ObjectIdentifier: ConnectionState] = [:]

    init(limit: Int) { self.limit = limit }

    func admit(_ state: ConnectionState) -> Bool {
        if open.count >= limit {
            guard let victim = open.values.filter({ !$0.busy }).min(by: { $0.lastActivity < $1.lastActivity }) else {
                return false
            }
            open.removeValue(forKey: ObjectIdentifier(victim))
            victim.channel.close(promise: nil)
        }
        open[ObjectIdentifier(state)] = state
        return true
    }

    func remove(_ state: ConnectionState) { open.removeValue(forKey: ObjectIdentifier(state)) }
}

/// Turns parser errors into 431 (headers too large) or 400, then closes.
final class ProtocolErrorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError else {
            context.close(promise: nil)
            return
        }
        let status: HTTPResponseStatus = parserError == .headerOverflow ? .requestHeaderFieldsTooLarge : .badRequest
        let body = parserError == .headerOverflow ? "request headers too large\n" : "bad request\n"
        var buffer = context.channel.allocator.buffer(capacity: body.utf8.count)
        buffer.writeString(body)
        let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", String(buffer.readableBytes)),
                                   ("Content-Type", EndpointReply.textType), ("Cache-Control", "no-store"),
                                   ("X-Content-Type-Options", "nosniff")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}

final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    unowned let server: ProbeServer
    let state: ConnectionState
    let isLoopback: Bool
    private var head: HTTPRequestHead? = nil

    init(server: ProbeServer, state: ConnectionState, isLoopback: Bool) {
        self.server = server
        self.state = state
        self.isLoopback = isLoopback
    }

    func handlerAdded(context: ChannelHandlerContext) {
        armDeadline(channel: context.channel, in: server.limits.requestDeadline)
    }

    func handlerRemoved(context: ChannelHandlerContext) { state.deadline?.cancel() }

    /// One timer per connection. Answering a request only moves `lastActivity`; when the timer
    /// fires early it re-arms for the rest, so keep-alive requests cost no timer work.
    private func armDeadline(channel: Channel, in delay: TimeAmount) {
        let limit = server.limits.requestDeadline
        state.deadline = channel.eventLoop.scheduleTask(in: delay) { [state] in
            let idleUntil = state.lastActivity + limit
            if state.busy || idleUntil <= .now() {
                channel.close(promise: nil)
            } else {
                self.armDeadline(channel: channel, in: idleUntil - .now())
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            state.busy = true
        case .body:
            break  // bodies are ignored (admin endpoints take none)
        case .end:
            guard let head else { return }
            self.head = nil
            respond(to: head, context: context)
        }
    }

    /// `200 ok` for HTTP/1.1 keep-alive, built once: the same bytes the router's reply would give.
    private static let okHead = HTTPResponseHead(version: .http1_1, status: .ok, headers: HTTPHeaders([
        ("Content-Type", EndpointReply.textType), ("Content-Length", "2"),
        ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
    ]))
    private static let okBody: ByteBuffer = ByteBuffer(string: "ok")

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if head.version == .http1_1, head.isKeepAlive, head.method == .GET || head.method == .HEAD,
           let probe = EndpointRouter.bareProbe(head.uri), server.passes(probe) {
            context.write(wrapOutboundOut(.head(Self.okHead)), promise: nil)
            if head.method == .GET { context.write(wrapOutboundOut(.body(.byteBuffer(Self.okBody))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            state.busy = false
            state.lastActivity = .now()
            return
        }
        let request = EndpointRequest(
            method: head.method == .GET ? "GET" : head.method.rawValue, uri: head.uri, isLoopback: isLoopback,
            accept: head.headers.first(name: "Accept"), authorization: head.headers.first(name: "Authorization"))
        let reply = EndpointRouter.reply(to: request, snapshot: server.snapshot())
        if let command = reply.command { server.perform(command) }
        if let line = reply.logLine {
            var address = context.channel.remoteAddress?.ipAddress ?? "?"
            if address.hasPrefix("::ffff:") { address.removeFirst("::ffff:".count) }
            if reply.status == 403 { server.logger.warning("\(line)", metadata: ["client": "\(address)"]) }
            else { server.logger.info("\(line)", metadata: ["client": "\(address)"]) }
        }
        var buffer = context.channel.allocator.buffer(capacity: reply.body.utf8.count)
        buffer.writeString(reply.body)
        var headers = HTTPHeaders([
            ("Content-Type", reply.contentType),
            ("Content-Length", String(buffer.readableBytes)),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ])
        for (name, value) in reply.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        let keepAlive = head.isKeepAlive
        if head.version == .http1_0 && keepAlive { headers.add(name: "Connection", value: "keep-alive") }
        if !keepAlive && head.version != .http1_0 { headers.add(name: "Connection", value: "close") }
        let responseHead = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        state.busy = false
        state.lastActivity = .now()
        if !keepAlive {
            done.whenComplete { _ in context.close(promise: nil) }
        }
    }
}
