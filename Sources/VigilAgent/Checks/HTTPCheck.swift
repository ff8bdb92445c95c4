import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import VigilCore

/// GET over HTTP/1.1 like kubelet: no redirects followed (3xx counts by status), TLS not verified,
/// at most `bodyLimit` bytes of body read for EXPECT_BODY.
enum HTTPCheck {
    static let bodyLimit = 64 * 1024
    static let userAgent = "vigil-check"

    /// Starts the request; returns a cancel action for the timeout.
    static func run(
        _ target: HTTPTarget, spec: CheckSpec, resolver: AddressResolver, on loop: EventLoop,
        promise: EventLoopPromise<(Bool, String)>
    ) -> () -> Void {
        let connection = Connection()
        fetch(
            target, resolver: resolver, on: loop, timeout: spec.timeout, userAgent: userAgent,
            onChannel: { channel in
                if connection.cancelled { channel.close(promise: nil) } else { connection.channel = channel }
            }
        ).whenComplete { result in
            switch result {
            case .failure(let error):
                promise.succeed((false, CheckExecutor.describe(error)))
            case .success(let response):
                guard spec.expectStatus.contains(response.status) else {
                    promise.succeed((false, "HTTP \(response.status), expected \(spec.expectStatus)"))
                    return
                }
                if let expected = spec.expectBody, !TextSearch.contains(response.body, expected) {
                    promise.succeed((false, "HTTP \(response.status), body does not contain \"\(expected)\""))
                    return
                }
                promise.succeed((true, "HTTP \(response.status)"))
            }
        }
        return {
            connection.cancelled = true
            connection.channel?.close(promise: nil)
        }
    }

    /// The run's channel, for the timeout to close. Event-loop confined.
    private final class Connection {
        var channel: Channel? = nil
        var cancelled = false
    }

    struct Response {
        var status: Int
        var body: String
    }

    struct IncompleteResponse: Error, CustomStringConvertible {
        var description: String { "connection closed before a complete response" }
    }

    /// One GET; shared by checks and the `vigil probe/status/drain` commands. Call on `loop`.
    static func fetch(
        _ target: HTTPTarget, method: HTTPMethod = .GET, headers extra: [(String, String)] = [],
        resolver: AddressResolver, on loop: EventLoop, timeout: Duration, userAgent: String,
        onChannel: @escaping (Channel) -> Void = { _ in }
    ) -> EventLoopFuture<Response> {
        let responsePromise = loop.makePromise(of: Response.self)
        resolver.resolve(host: target.host, port: target.port, on: loop).flatMap { address in
            ClientBootstrap(group: loop)
                .connectTimeout(.milliseconds(timeout.milliseconds))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if target.secure { try addTLS(to: channel, host: target.host) }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        var headers = HTTPHeaders([
                            ("Host", target.hostHeader), ("User-Agent", userAgent),
                            ("Accept", "*/*"), ("Connection", "close"),
                        ])
                        headers.add(contentsOf: extra)
                        if method == .POST || method == .DELETE { headers.add(name: "Content-Length", value: "0") }
                        let head = HTTPRequestHead(
                            version: .http1_1, method: method, uri: target.path, headers: headers)
                        try channel.pipeline.syncOperations.addHandler(
                            ResponseCollector(request: head, promise: responsePromise))
                    }
                }
                .connect(to: address)
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel): onChannel(channel)
            case .failure(let error): responsePromise.fail(error)
            }
        }
        return responsePromise.futureResult
    }

    /// A TLS client that does not verify the certificate (as kubelet), with the host as SNI when it
    /// is a name, offering PROTOCOLS by ALPN. Call on the channel's loop, before it connects.
    static func addTLS(to channel: Channel, host: String, protocols: [String] = []) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        tls.applicationProtocols = protocols
        let context = try NIOSSLContext(configuration: tls)
        let serverName = IPAddressText.isNumeric(host) ? nil : host
        let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName)
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    final class ResponseCollector: PromiseHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        let request: HTTPRequestHead
        let promise: EventLoopPromise<Response>
        var closedEarly: Error { IncompleteResponse() }
        var status: Int? = nil
        var body: [UInt8] = []

        init(request: HTTPRequestHead, promise: EventLoopPromise<Response>) {
            self.request = request
            self.promise = promise
        }

        func channelActive(context: ChannelHandlerContext) {
            context.write(wrapOutboundOut(.head(request)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = Int(head.status.code)
            case .body(var buffer):
                let room = HTTPCheck.bodyLimit - body.count
                if room > 0, let bytes = buffer.readBytes(length: min(room, buffer.readableBytes)) {
                    body.append(contentsOf: bytes)
                }
            case .end:
                finish(context: context)
            }
        }

        func finish(context: ChannelHandlerContext) {
            if let status {
                promise.succeed(Response(status: status, body: String(decoding: body, as: UTF8.self)))
            } else {
                promise.fail(IncompleteResponse())
            }
            context.close(promise: nil)
        }
    }
}
