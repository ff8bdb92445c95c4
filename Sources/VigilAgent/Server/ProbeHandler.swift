import Logging
import NIOCore
import NIOHTTP1
import VigilCore

/// Answers each request from the host's state; one per connection, after NIO's HTTP codec and
/// pipelining handler (which delivers the next request only after this one's `.end`).
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
        let loop = channel.eventLoop.assumeIsolated()
        state.deadline = loop.scheduleTask(in: delay) { [state] in
            let idleUntil = state.lastActivity + limit
            if state.busy || idleUntil <= loop.nonisolated().now {
                channel.close(promise: nil)
            } else {
                self.armDeadline(channel: channel, in: idleUntil - loop.nonisolated().now)
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
    private static let okHead = HTTPResponseHead(
        version: .http1_1, status: .ok,
        headers: HTTPHeaders([
            ("Content-Type", EndpointReply.textType), ("Content-Length", "2"),
            ("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"),
        ]))
    private static let okBody: ByteBuffer = ByteBuffer(string: "ok")

    /// Whether the prebuilt `ok` is the whole answer: what kubelet and balancers ask, many times
    /// a second. Anything else (verbose, JSON, HTTP/1.0, failing) goes through the router.
    private func isBareProbeThatPasses(_ head: HTTPRequestHead) -> Bool {
        guard head.version == .http1_1, head.isKeepAlive, head.method == .GET || head.method == .HEAD,
            let probe = EndpointRouter.bareProbe(head.uri, accept: head.headers.first(name: "Accept"))
        else { return false }
        return server.host?.passes(probe) ?? false
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        if isBareProbeThatPasses(head) {
            finishRequest()
            context.write(wrapOutboundOut(.head(Self.okHead)), promise: nil)
            if head.method == .GET { context.write(wrapOutboundOut(.body(.byteBuffer(Self.okBody))), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            return
        }
        guard let host = server.host else {
            context.close(promise: nil)
            return
        }
        let request = EndpointRequest(
            method: head.method == .GET ? "GET" : head.method.rawValue, uri: head.uri, isLoopback: isLoopback,
            accept: head.headers.first(name: "Accept"), authorization: head.headers.first(name: "Authorization"),
            adminHeader: head.headers.first(name: EndpointRequest.adminHeaderName))
        let reply = EndpointRouter.reply(to: request, snapshot: host.snapshot())
        if let command = reply.command { host.perform(command) }
        if let line = reply.logLine {
            log(line, status: reply.status, channel: context.channel, userAgent: head.headers.first(name: "User-Agent"))
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
        let status = HTTPResponseStatus(statusCode: reply.status)
        finishRequest()
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
            promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil) }
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Before the `.end` write: writing it lets the pipelining handler deliver the next request
    /// at once, which must find the connection busy again, not idle since this one.
    private func finishRequest() {
        state.busy = false
        state.lastActivity = state.channel.eventLoop.now
    }

    /// Every admin call is logged with its caller: address, and user agent when it sent one.
    private func log(_ line: String, status: Int, channel: Channel, userAgent: String?) {
        let address = channel.remoteAddress?.clientIP ?? "?"
        let level: Logger.Level = status == 403 ? .warning : .info
        var metadata: Logger.Metadata = ["client": "\(address)"]
        if let userAgent { metadata["user_agent"] = "\(userAgent.prefix(100))" }
        server.logger.log(level: level, "\(line)", metadata: metadata)
    }
}

/// Turns parser errors into 431 (headers too large) or 400, then closes.
final class ProtocolErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A parser error on a connection already closed (a request cut off by the deadline) has
        // nobody to answer.
        guard let parserError = error as? HTTPParserError, context.channel.isActive else {
            context.close(promise: nil)
            return
        }
        let tooLarge = parserError == .headerOverflow
        let status: HTTPResponseStatus = tooLarge ? .requestHeaderFieldsTooLarge : .badRequest
        var buffer = context.channel.allocator.buffer(capacity: 32)
        buffer.writeString(tooLarge ? "request headers too large\n" : "bad request\n")
        let headers = HTTPHeaders([
            ("Connection", "close"), ("Content-Length", String(buffer.readableBytes)),
            ("Content-Type", EndpointReply.textType), ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        ])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
