import NIOCore
import NIOHTTP1
import VigilCore

/// One client connection of the front door in http mode, after NIO's HTTP codec and pipelining
/// handler (which hands over the next request only after this one's response `.end`): forwards
/// each request to the app on a pooled connection, streaming bodies both ways with
/// backpressure, and answers itself only when the app cannot (400, 502, 503, 504).
final class DoorConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    unowned let door: FrontDoor
    let state: ConnectionState
    private var context: ChannelHandlerContext? = nil
    private var exchange: DoorExchange? = nil
    private var deadline: Scheduled<Void>? = nil
    private var deadlineDue: NIODeadline? = nil

    init(door: FrontDoor, state: ConnectionState) {
        self.door = door
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        clientAddress = context.channel.remoteAddress?.clientIP
        armDeadline()
    }

    /// The client's IP address for `X-Forwarded-For`, worked out once per connection.
    private(set) var clientAddress: String? = nil

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        exchange?.clientClosed()
        exchange = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            state.busy = true
            state.headStartedAt = nil
            let exchange = DoorExchange(connection: self, head: head)
            self.exchange = exchange
            exchange.start()
            // Only reschedules when VIGIL_PROXY_TIMEOUT is shorter than the header timeout.
            armDeadline()
        case .body(let buffer):
            exchange?.clientBody(buffer)
        case .end(let trailers):
            exchange?.clientEnd(trailers)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.flushToApp()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { exchange?.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: - Called by the exchange

    var channel: Channel? { context?.channel }

    func send(_ part: HTTPServerResponsePart, flush: Bool = false) {
        guard let context else { return }
        if flush {
            context.writeAndFlush(wrapOutboundOut(part), promise: nil)
        } else {
            context.write(wrapOutboundOut(part), promise: nil)
        }
    }

    /// The response's `.end`: the connection is idle again (before the write, which may hand
    /// over a pipelined request at once), and closed after it when `close`.
    func finish(_ exchange: DoorExchange, trailers: HTTPHeaders?, close: Bool) {
        guard self.exchange === exchange, let context else { return }
        self.exchange = nil
        state.busy = false
        state.lastActivity = context.eventLoop.now
        guard close else {
            // No promise: the keep-alive case, every request, needs none.
            context.writeAndFlush(wrapOutboundOut(.end(trailers)), promise: nil)
            return armDeadline()
        }
        context.writeAndFlush(wrapOutboundOut(.end(trailers))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    /// A `101`: from here on the connection is a tunnel to `app`. The switch waits for the next
    /// loop turn, when neither codec is inside its decode loop: the app's decoder has delivered
    /// what it parsed, and its leftover bytes (sent with the 101) go to the tunnel when it is
    /// removed. Meanwhile neither side reads: the app's reads are paused, the client's held by
    /// the pipelining handler, which saw no response `.end`.
    func becomeTunnel(_ exchange: DoorExchange, to app: Channel) {
        guard self.exchange === exchange, let context else { return }
        self.exchange = nil
        deadline?.cancel()
        deadline = nil
        deadlineDue = nil
        let channel = context.channel
        context.flush()
        app.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let door = self.door
        context.eventLoop.assumeIsolated().execute {
            guard channel.isActive, app.isActive, door.joinTunnel(client: channel, app: app) else {
                channel.close(promise: nil)
                app.close(promise: nil)
                return
            }
            do {
                try Self.removeCodecs(client: channel.pipeline.syncOperations, app: app.pipeline.syncOperations)
            } catch {
                channel.close(promise: nil)
                app.close(promise: nil)
                return
            }
            channel.read()
            app.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
        }
    }

    /// Every HTTP handler of both pipelines, the client's first: the tunnel handlers at their
    /// ends are then the only ones that see the bytes.
    private static func removeCodecs(
        client: ChannelPipeline.SynchronousOperations, app: ChannelPipeline.SynchronousOperations
    ) throws {
        try client.removeHandler(context: client.context(handlerType: ProtocolErrorHandler.self), promise: nil)
        try client.removeHandler(context: client.context(handlerType: HTTPServerPipelineHandler.self), promise: nil)
        try client.removeHandler(context: client.context(handlerType: HTTPResponseEncoder.self), promise: nil)
        try client.removeHandler(
            context: client.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self), promise: nil)
        try client.removeHandler(context: client.context(handlerType: ByteArrivalHandler.self), promise: nil)
        try client.removeHandler(context: client.context(handlerType: DoorConnection.self), promise: nil)
        try app.removeHandler(context: app.context(handlerType: UpstreamHandler.self), promise: nil)
        try app.removeHandler(context: app.context(handlerType: HTTPRequestEncoder.self), promise: nil)
        try app.removeHandler(
            context: app.context(handlerType: ByteToMessageHandler<HTTPResponseDecoder>.self), promise: nil)
    }

    // MARK: - Deadlines

    /// One timer per connection, never cancelled per request: when it fires it checks the
    /// deadline that applies now and closes, answers 504 or re-arms. While idle: the idle timeout
    /// since the last response, and the header timeout once a head has begun to arrive. While a
    /// request waits for the app's answer: `VIGIL_PROXY_TIMEOUT` from its head.
    private func armDeadline() {
        guard let channel = context?.channel else { return }
        let loop = channel.eventLoop.assumeIsolated()
        let settings = door.settings
        let idle = TimeAmount.milliseconds(settings.idleTimeout.milliseconds)
        let header = TimeAmount.milliseconds(settings.headerTimeout.milliseconds)
        let answer = TimeAmount.milliseconds(settings.timeout.milliseconds)
        let now = loop.nonisolated().now
        // Whatever the state, look again within the header timeout: a head may start arriving
        // at any moment after a response, and the timer is not re-armed per request.
        var due = now + header
        if let exchange {
            due = min(due, exchange.startedAt + answer)
        } else {
            due = min(due, state.lastActivity + idle)
            if let started = state.headStartedAt { due = min(due, started + header) }
        }
        // Armed for no later than that already (the usual case): nothing to do.
        if let armed = deadlineDue, armed <= due { return }
        deadline?.cancel()
        deadlineDue = due
        deadline = loop.scheduleTask(deadline: due) { [weak self] in
            guard let self else { return }
            self.deadline = nil
            self.deadlineDue = nil
            let now = loop.nonisolated().now
            if let exchange = self.exchange {
                if exchange.startedAt + answer <= now { exchange.timedOut() }
            } else if !self.state.busy {
                let idleOver = self.state.lastActivity + idle <= now
                let headOver = self.state.headStartedAt.map { $0 + header <= now } ?? false
                if idleOver || headOver { return channel.close(promise: nil) }
            }
            self.armDeadline()
        }
    }
}
