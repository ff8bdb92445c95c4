import NIOCore
import NIOEmbedded
import Testing

@testable import VigilAgent
@testable import VigilCore

/// The app as the door sees it in these tests: always up.
final class UpApp: FrontDoorHost {
    var appExpectedUp: Bool { true }
    var appRun: Int { 0 }
}

/// A front door on an `EmbeddedEventLoop`: clients and app connections are `EmbeddedChannel`s,
/// so a test writes the client's bytes, reads what the app got, answers as the app, and lets
/// virtual time pass.
final class DoorHarness {
    let loop = EmbeddedEventLoop()
    let log = CapturedLog()
    let door: FrontDoor
    let host = UpApp()
    /// Every app connection the door opened, in order.
    private(set) var apps: [EmbeddedChannel] = []

    init(timeout: Duration = .seconds(60)) {
        var settings = ProxyConfiguration(listen: HostPort(host: "", port: 8080), upstream: .unix(path: "/app"))
        settings.timeout = timeout
        door = FrontDoor(
            loop: loop, settings: settings, resolver: AddressResolver(threadPool: { fatalError("no lookups") }),
            logger: log.logger)
        door.host = host
        door.pool.connector = { [unowned self] _ in
            let app = EmbeddedChannel(loop: self.loop)
            self.apps.append(app)
            return self.loop.makeCompletedFuture {
                try UpstreamPool.configure(app)
                try app.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8081)).wait()
                return app
            }
        }
    }

    func client() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        channel.remoteAddress = try SocketAddress(ipAddress: "10.0.0.9", port: 40_000)
        try door.initialize(channel)
        return channel
    }

    /// What `channel` wrote so far, as text.
    func written(on channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let data = try channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let buffer) = data { text += String(buffer: buffer) }
        }
        return text
    }

    func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        loop.run()
    }
}

@Suite struct FrontDoorTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test func forwardsReframedAndKeepsBothConnectionsAlive() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        try harness.send("GET /a HTTP/1.1\r\nHost: x\r\nKeep-Alive: 5\r\n\r\n", to: client)
        let app = try #require(harness.apps.first)
        #expect(
            try harness.written(on: app)
                == "GET /a HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 10.0.0.9\r\nX-Forwarded-Proto: http\r\n\r\n")
        try harness.send(Self.ok, to: app)
        #expect(try harness.written(on: client) == Self.ok)
        // The second request reuses the app connection.
        try harness.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        #expect(harness.apps.count == 1)
        #expect(try harness.written(on: app).hasPrefix("GET /b HTTP/1.1\r\n"))
        #expect(client.isActive && app.isActive)
    }

    @Test func whileDrainingEveryResponseClosesItsConnection() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        harness.door.beginClosing()
        try harness.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        try harness.send(Self.ok, to: harness.apps[0])
        let answer = try harness.written(on: client)
        #expect(answer.contains("\r\nConnection: close\r\n"))
        #expect(!client.isActive)
        #expect(harness.door.traffic.phase == .closing)
    }

    @Test func aHeadSentBeforeTheDrainKeepsItsKeepAlivePromise() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        try harness.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        try harness.send("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", to: harness.apps[0])
        harness.door.beginClosing()
        try harness.send("ok", to: harness.apps[0])
        #expect(!(try harness.written(on: client)).contains("Connection: close"))
        #expect(client.isActive, "closed after a response that promised keep-alive")
        // Its next response carries the close.
        try harness.send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        try harness.send(Self.ok, to: harness.apps[0])
        #expect(try harness.written(on: client).contains("Connection: close"))
        #expect(!client.isActive)
    }

    @Test func finishingWaitsForTheRequestInFlight() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        try harness.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        var quiet = false
        harness.door.beginClosing()
        harness.door.finish { quiet = true }
        #expect(!quiet)
        #expect(harness.door.traffic.inFlight == 1)
        try harness.send(Self.ok, to: harness.apps[0])
        #expect(quiet)
        #expect(harness.door.traffic.phase == .finishing)
    }

    @Test func noAnswerWithinTheTimeoutIs504OnVirtualTime() throws {
        let harness = DoorHarness(timeout: .seconds(2))
        let client = try harness.client()
        try harness.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        harness.loop.advanceTime(by: .milliseconds(1_900))
        #expect(try harness.written(on: client) == "")
        harness.loop.advanceTime(by: .milliseconds(200))
        let answer = try harness.written(on: client)
        #expect(answer.hasPrefix("HTTP/1.1 504 Gateway Timeout\r\n"))
        #expect(answer.hasSuffix("gateway timeout: the app did not answer within 2s\n"))
        #expect(!harness.apps[0].isActive)
    }

    @Test func aStaleKeepAliveConnectionIsRetriedOnceForAnIdempotentRequest() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        try harness.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        try harness.send(Self.ok, to: harness.apps[0])
        _ = try harness.written(on: client)
        // The app closes its keep-alive connection just as the next request goes out on it.
        try harness.send("GET /2 HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        try harness.apps[0].close().wait()
        harness.loop.run()
        #expect(harness.apps.count == 2)
        #expect(try harness.written(on: harness.apps[1]).hasPrefix("GET /2 HTTP/1.1\r\n"))
        try harness.send(Self.ok, to: harness.apps[1])
        #expect(try harness.written(on: client).hasPrefix("HTTP/1.1 200 OK\r\n"))
    }

    @Test func aPostIsNotRetried() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        try harness.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n", to: client)
        try harness.send(Self.ok, to: harness.apps[0])
        _ = try harness.written(on: client)
        try harness.send("POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", to: client)
        try harness.apps[0].close().wait()
        harness.loop.run()
        #expect(harness.apps.count == 1)
        #expect(try harness.written(on: client).hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
    }

    @Test func a101TurnsBothConnectionsIntoATunnel() throws {
        let harness = DoorHarness()
        let client = try harness.client()
        try harness.send(
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", to: client)
        let app = harness.apps[0]
        #expect(try harness.written(on: app).contains("\r\nUpgrade: websocket\r\n"))
        try harness.send(
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", to: app)
        #expect(try harness.written(on: client).hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
        #expect(harness.door.traffic.tunnels == 1)
        try harness.send("frame from the client", to: client)
        #expect(try harness.written(on: app) == "frame from the client")
        try harness.send("frame from the app", to: app)
        #expect(try harness.written(on: client) == "frame from the app")
        try client.close().wait()
        harness.loop.run()
        #expect(harness.door.traffic.tunnels == 0)
        #expect(!app.isActive)
    }
}
