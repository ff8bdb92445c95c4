import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix
import VigilCore

/// `grpc.health.v1.Health/Check` like kubelet's grpc probe: one HTTP/2 connection per run (h2c, or
/// TLS without verification and ALPN `h2` for grpcs), one stream, the request in one DATA frame.
/// What the answer means is `GRPCHealthAnswer.verdict`'s; the protobuf is `GRPCHealth`'s.
enum GRPCCheck {
    static let userAgent = "vigil/\(VigilBuild.version)"

    /// Starts the call; returns a cancel action for the timeout (it closes the connection).
    static func run(
        _ target: GRPCTarget, spec: CheckSpec, resolver: AddressResolver, on loop: EventLoop,
        promise: EventLoopPromise<(Bool, String)>
    ) -> () -> Void {
        let connection = Connection()
        let answer = loop.makePromise(of: GRPCHealthAnswer.self)
        let call = Call(
            headers: requestHeaders(target, timeout: spec.timeout), message: GRPCHealth.request(service: target.service)
        )
        resolver.resolve(host: target.host, port: target.port, on: loop).flatMap { address in
            ClientBootstrap(group: loop)
                .connectTimeout(.milliseconds(spec.timeout.milliseconds))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if target.secure { try HTTPCheck.addTLS(to: channel, host: target.host, protocols: ["h2"]) }
                        try channel.pipeline.syncOperations.addHandler(PrefaceWatcher(answer: answer))
                        _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                            mode: .client, connectionConfiguration: .init(), streamConfiguration: .init()
                        ) { pushed in pushed.eventLoop.makeSucceededVoidFuture() }
                        try channel.pipeline.syncOperations.addHandler(ConnectionWatcher(answer: answer))
                    }
                }
                .connect(to: address)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                answer.fail(error)
            case .success(let channel):
                if connection.finished {
                    channel.close(promise: nil)
                } else {
                    connection.channel = channel
                    openStream(on: channel, call: call, answer: answer)
                }
            }
        }
        answer.futureResult.assumeIsolated().whenComplete { result in
            connection.finish()  // one connection per run
            switch result {
            case .success(let answer): promise.succeed(answer.verdict)
            case .failure(let error): promise.succeed((false, CheckExecutor.describe(error)))
            }
        }
        return {
            connection.finish()
            answer.fail(ChannelError.alreadyClosed)  // the timeout has answered; this only ends the call
        }
    }

    /// The call's request: its HEADERS and its one framed message. Sendable, for the stream's initializer.
    struct Call: Sendable {
        var headers: HPACKHeaders
        var message: [UInt8]
    }

    static func requestHeaders(_ target: GRPCTarget, timeout: Duration) -> HPACKHeaders {
        HPACKHeaders([
            (":method", "POST"), (":scheme", target.secure ? "https" : "http"), (":path", GRPCHealth.path),
            (":authority", target.authority), ("content-type", "application/grpc"), ("te", "trailers"),
            ("grpc-timeout", GRPCHealth.timeoutHeader(milliseconds: timeout.milliseconds)), ("user-agent", userAgent),
        ])
    }

    /// One stream on the connection, carrying the call. Call on the channel's loop, once it is connected.
    private static func openStream(on channel: Channel, call: Call, answer: EventLoopPromise<GRPCHealthAnswer>) {
        do {
            let multiplexer = try channel.pipeline.syncOperations.handler(type: NIOHTTP2Handler.self)
                .syncMultiplexer()
            let opened = channel.eventLoop.makePromise(of: Channel.self)
            opened.futureResult.whenFailure { answer.fail($0) }
            multiplexer.createStreamChannel(promise: opened) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HealthCall(call: call, answer: answer))
                }
            }
        } catch {
            answer.fail(error)
        }
    }

    /// The run's connection, for the timeout to close. Event-loop confined.
    private final class Connection {
        var channel: Channel? = nil
        var finished = false

        func finish() {
            finished = true
            channel?.close(promise: nil)
            channel = nil
        }
    }

    struct StreamReset: Error, CustomStringConvertible {
        var code: HTTP2ErrorCode
        var description: String { "the server reset the stream (HTTP/2 error \(code.networkCode))" }
    }

    struct IncompleteAnswer: Error, CustomStringConvertible {
        var description: String { "connection closed before a complete answer" }
    }

    /// The stream's handler: sends HEADERS, then the request with END_STREAM; collects the response
    /// headers, the body (bounded) and the trailers, which a trailers-only answer sends as its headers.
    final class HealthCall: PromiseHandler {
        typealias InboundIn = HTTP2Frame.FramePayload
        typealias OutboundOut = HTTP2Frame.FramePayload

        let call: Call
        let promise: EventLoopPromise<GRPCHealthAnswer>
        var closedEarly: Error { IncompleteAnswer() }
        var collected = GRPCHealthAnswer()
        var sawHeaders = false

        init(call: Call, answer: EventLoopPromise<GRPCHealthAnswer>) {
            self.call = call
            self.promise = answer
        }

        func channelActive(context: ChannelHandlerContext) {
            let request = context.channel.allocator.buffer(bytes: call.message)
            context.write(wrapOutboundOut(.headers(.init(headers: call.headers))), promise: nil)
            context.writeAndFlush(
                wrapOutboundOut(.data(.init(data: .byteBuffer(request), endStream: true))), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .headers(let frame):
                record(frame.headers)
                if frame.endStream { finish(context: context) }
            case .data(let frame):
                if case .byteBuffer(var buffer) = frame.data {
                    let room = GRPCHealth.responseLimit - collected.body.count
                    if room > 0, let bytes = buffer.readBytes(length: min(room, buffer.readableBytes)) {
                        collected.body.append(contentsOf: bytes)
                    }
                }
                if frame.endStream { finish(context: context) }
            case .rstStream(let code):
                promise.fail(StreamReset(code: code))
                context.close(promise: nil)
            default:
                break
            }
        }

        /// The first HEADERS carry `:status`; `grpc-status` may come in them (trailers-only) or in the trailers.
        private func record(_ headers: HPACKHeaders) {
            if !sawHeaders {
                sawHeaders = true
                collected.httpStatus = headers.first(name: ":status").flatMap { Int($0) }
                collected.contentType = headers.first(name: "content-type")
            }
            if let status = headers.first(name: "grpc-status") { collected.grpcStatus = status }
            if let message = headers.first(name: "grpc-message") { collected.grpcMessage = message }
        }

        private func finish(context: ChannelHandlerContext) {
            promise.succeed(collected)
            context.close(promise: nil)
        }
    }

    /// Before HTTP/2: a server that is not an HTTP/2 one says so in its first bytes (an HTTP/1
    /// status line, a page, a TLS alert), which makes a better reason than the close that follows.
    final class PrefaceWatcher: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        let answer: EventLoopPromise<GRPCHealthAnswer>
        var head: [UInt8] = []
        var judged = false

        init(answer: EventLoopPromise<GRPCHealthAnswer>) { self.answer = answer }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if !judged {
                head.append(contentsOf: unwrapInboundIn(data).readableBytesView.prefix(64 - head.count))
                if head.count >= 9 { judge() }
            }
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !judged && !head.isEmpty { judge() }
            context.fireChannelInactive()
        }

        private func judge() {
            judged = true
            if let reason = GRPCHealthAnswer.prefaceProblem(head) { answer.fail(NotHTTP2(reason: reason)) }
        }
    }

    struct NotHTTP2: Error, CustomStringConvertible {
        var reason: String
        var description: String { reason }
    }

    /// Last in the connection's pipeline: an error on the connection (TLS, HTTP/2) or its close ends the call.
    final class ConnectionWatcher: PromiseHandler {
        typealias InboundIn = HTTP2Frame

        let promise: EventLoopPromise<GRPCHealthAnswer>
        var closedEarly: Error { IncompleteAnswer() }

        init(answer: EventLoopPromise<GRPCHealthAnswer>) { self.promise = answer }
    }
}
