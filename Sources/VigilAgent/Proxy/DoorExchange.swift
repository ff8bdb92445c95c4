import NIOCore
import NIOHTTP1
import VigilCore

/// One request through the front door and its response. Event-loop confined.
final class DoorExchange {
    private unowned let connection: DoorConnection
    private let head: HTTPRequestHead
    private var door: FrontDoor { connection.door }
    /// When the head arrived: `VIGIL_PROXY_TIMEOUT` counts from here (the connection's timer).
    let startedAt: NIODeadline
    private var framing: ForwardingRules.Framing = .none
    private var forwardedHead: HTTPRequestHead? = nil
    /// Parts read from the client before the app's connection was there.
    private var pending: [HTTPClientRequestPart] = []
    private var app: UpstreamConnection? = nil
    private var dispatch: DoorDispatch<Channel>? = nil
    private var requestEnded = false
    private var bodySent = false
    private var responseStatus: Int? = nil
    private var keepAlive = true
    private var appKeepsAlive = true
    private var retried = false
    private var finished = false

    init(connection: DoorConnection, head: HTTPRequestHead) {
        self.connection = connection
        self.head = head
        self.startedAt = connection.door.loop.now
    }

    private var http10: Bool { head.version.major == 1 && head.version.minor == 0 }

    func start() {
        door.requestStarted()
        let headers = Array(head.headers)
        switch RequestFraming.framing(of: headers) {
        case .failure(let refusal):
            return answer(400, "bad request: \(refusal)\n")
        case .success(let framing):
            self.framing = framing
        }
        keepAlive = ForwardingRules.keepsAlive(headers, http10: http10)
        let forwarded = ForwardingRules.request(
            headers, framing: framing, client: connection.clientAddress, forwarded: door.settings.forwardedHeaders)
        forwardedHead = HTTPRequestHead(
            version: .http1_1, method: head.method, uri: head.uri, headers: HTTPHeaders(forwarded))
        pending.append(.head(forwardedHead!))
        connect()
    }

    private func connect() {
        // A warm connection at hand: no wait, so nothing to pause or schedule.
        if let channel = door.pool.takeIdle(), let app = try? UpstreamConnection(channel) {
            return attach(app)
        }
        setClientReading(false)
        let dispatch = DoorDispatch(door: door, deadline: startedAt + .milliseconds(door.settings.timeout.milliseconds))
        { [door] in door.pool.acquire() }
        self.dispatch = dispatch
        dispatch.run { [weak self] result in
            guard let self, !self.finished else {
                if case .success(let channel) = result { channel.close(promise: nil) }
                return
            }
            self.dispatch = nil
            switch result {
            case .success(let channel):
                guard let app = try? UpstreamConnection(channel) else {
                    channel.close(promise: nil)
                    return self.answer(502, "bad gateway: the app is unreachable\n")
                }
                self.attach(app)
            case .failure(.unreachable(let reason)):
                self.answer(502, "bad gateway: the app is unreachable (\(reason))\n")
            case .failure(.notBack): self.answer(503, "service unavailable: the app did not come back in time\n")
            case .failure(.queueFull): self.answer(503, "service unavailable: too many requests wait for the app\n")
            }
        }
    }

    private func attach(_ app: UpstreamConnection) {
        self.app = app
        // Weak: the exchange ends with its client connection (or a tunnel) while the app's
        // connection may still report, until `detachApp` or the pool resets these.
        app.handler.onPart = { [weak self] part in self?.appPart(part) }
        app.handler.onClosed = { [weak self] in self?.appClosed() }
        app.handler.onWritable = { [weak self] in self?.setClientReading(true) }
        app.handler.onReadComplete = { [weak self] in self?.connection.channel?.flush() }
        for part in pending { app.channel.write(part, promise: nil) }
        pending.removeAll()
        app.channel.flush()
        if pausedClient { setClientReading(true) }
    }

    // MARK: - From the client

    func clientBody(_ buffer: ByteBuffer) {
        bodySent = true
        guard let app else { return pending.append(.body(.byteBuffer(buffer))) }
        app.channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
        if !app.channel.isWritable { setClientReading(false) }
    }

    func clientEnd(_ trailers: HTTPHeaders?) {
        requestEnded = true
        guard let app else { return pending.append(.end(trailers)) }
        app.channel.writeAndFlush(HTTPClientRequestPart.end(trailers), promise: nil)
    }

    func flushToApp() { app?.channel.flush() }

    func clientWritable() { app?.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }

    func clientClosed() {
        guard !finished else { return }
        dispatch?.cancel()
        end(status: nil)
        detachApp()?.close(promise: nil)
    }

    // MARK: - From the app

    private func appPart(_ part: HTTPClientResponsePart) {
        guard !finished else { return }
        switch part {
        case .head(let response) where response.status == .switchingProtocols:
            let headers = ForwardingRules.response(
                Array(response.headers), status: 101, framing: .none, keepAlive: true, http10: false)
            connection.send(
                .head(HTTPResponseHead(version: head.version, status: response.status, headers: .init(headers))))
            guard let app = detachApp() else { return }
            responseStatus = 101
            end(status: 101)
            connection.becomeTunnel(self, to: app)
        case .head(let response) where response.status.code < 200:
            let headers = ForwardingRules.response(
                Array(response.headers), status: Int(response.status.code), framing: .none, keepAlive: true,
                http10: false)
            connection.send(
                .head(HTTPResponseHead(version: head.version, status: response.status, headers: .init(headers))),
                flush: true)
        case .head(let response):
            let status = Int(response.status.code)
            responseStatus = status
            let headers = Array(response.headers)
            appKeepsAlive = ForwardingRules.keepsAlive(headers, http10: response.version.minor == 0)
            let bodyless = head.method == .HEAD || status == 204 || status == 304
            let (framing, mustClose) = RequestFraming.responseFraming(
                of: headers, bodyless: bodyless, http10Client: http10)
            keepAlive = keepAlive && !mustClose && !door.closesConnections
            let forwarded = ForwardingRules.response(
                headers, status: status, framing: framing, keepAlive: keepAlive, http10: http10)
            connection.send(
                .head(HTTPResponseHead(version: head.version, status: response.status, headers: .init(forwarded))))
        case .body(let buffer):
            connection.send(.body(.byteBuffer(buffer)))
            if let channel = connection.channel, !channel.isWritable {
                // Pause first: the flush may drain the buffer and report writable again at once.
                app?.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
                channel.flush()
            }
        case .end(let trailers):
            let reusable = appKeepsAlive && requestEnded
            // A request body the app did not wait for is still arriving: that connection ends here.
            // (Not the drain: a head that went out without `Connection: close` promised the client
            // the connection; closing it now would fail the client's next request.)
            keepAlive = keepAlive && requestEnded
            let app = self.app
            self.app = nil
            end(status: responseStatus)
            connection.finish(self, trailers: trailers, close: !keepAlive)
            if let app {
                if reusable { door.pool.release(app) } else { app.channel.close(promise: nil) }
            }
        }
    }

    private func appClosed() {
        guard !finished else { return }
        let reusedApp = app?.handler.reused ?? false
        app = nil
        if responseStatus != nil {
            // Part of the response went out: the client must see it cut off.
            end(status: nil)
            connection.channel?.close(promise: nil)
            return
        }
        // A keep-alive connection the app closed before this request reached it: once more on a
        // new one, when sending the request twice cannot do harm.
        if !retried && reusedApp && !bodySent && requestEnded && ForwardingRules.isIdempotent(head.method.rawValue),
            let forwardedHead
        {
            retried = true
            pending = [.head(forwardedHead), .end(nil)]
            return connect()
        }
        answer(502, "bad gateway: the app closed the connection without answering\n")
    }

    /// No answer within `VIGIL_PROXY_TIMEOUT`: 504, unless the response has begun.
    func timedOut() {
        guard !finished, responseStatus == nil else { return }
        dispatch?.cancel()
        detachApp()?.close(promise: nil)
        answer(504, "gateway timeout: the app did not answer within \(DurationText.format(door.settings.timeout))\n")
    }

    // MARK: - Ending

    /// The door's own answer; the connection closes after it (the request may not have been read).
    private func answer(_ status: Int, _ text: String) {
        guard !finished else { return }
        dispatch?.cancel()
        var body = ByteBuffer()
        body.writeString(text)
        let headers = HTTPHeaders([
            ("Content-Type", EndpointReply.textType), ("Content-Length", String(body.readableBytes)),
            ("Connection", "close"), ("Cache-Control", "no-store"),
        ])
        connection.send(
            .head(HTTPResponseHead(version: head.version, status: .init(statusCode: status), headers: headers)))
        if head.method != .HEAD { connection.send(.body(.byteBuffer(body))) }
        end(status: status)
        connection.finish(self, trailers: nil, close: true)
        setClientReading(true)
    }

    private func end(status: Int?) {
        guard !finished else { return }
        finished = true
        door.requestEnded(status: status, startedAt: startedAt)
    }

    /// Lets go of the app's connection without hearing from it again; its channel to close.
    private func detachApp() -> Channel? {
        guard let app else { return nil }
        self.app = nil
        app.handler.onPart = { _ in }
        app.handler.onClosed = {}
        app.handler.onWritable = {}
        app.handler.onReadComplete = {}
        return app.channel
    }

    private var pausedClient = false

    private func setClientReading(_ on: Bool) {
        pausedClient = !on
        connection.channel?.setOption(ChannelOptions.autoRead, value: on).whenComplete { _ in }
    }
}
