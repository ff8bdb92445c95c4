import Testing

@testable import VigilCore

@Suite struct RequestFramingTests {
    typealias Headers = ForwardingRules.Headers

    @Test(
        arguments: [
            ([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], RequestFraming.Refusal.lengthAndChunked),
            ([("Content-Length", "5"), ("Content-Length", "6")], .conflictingLengths),
            ([("Content-Length", "5"), ("Content-Length", "5")], .conflictingLengths),
            ([("Content-Length", "5, 5")], .conflictingLengths),
            ([("Content-Length", "-1")], .badLength),
            ([("Content-Length", "+5")], .badLength),
            ([("Content-Length", "99999999999999999999")], .badLength),
            ([("Transfer-Encoding", "gzip")], .unsupportedTransferCoding),
            ([("Transfer-Encoding", "chunked, gzip")], .unsupportedTransferCoding),
            ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], .unsupportedTransferCoding),
        ] as [([(String, String)], RequestFraming.Refusal)])
    func refusesWhatTwoParsersCouldReadDifferently(headers: [(String, String)], refusal: RequestFraming.Refusal) {
        let fields: Headers = headers.map { (name: $0.0, value: $0.1) }
        #expect(RequestFraming.framing(of: fields) == .failure(refusal))
    }

    @Test func acceptsOneFraming() {
        #expect(RequestFraming.framing(of: []) == .success(.none))
        #expect(RequestFraming.framing(of: [("content-length", " 12 ")]) == .success(.contentLength(12)))
        #expect(RequestFraming.framing(of: [("Content-Length", "0")]) == .success(.contentLength(0)))
        #expect(RequestFraming.framing(of: [("Transfer-Encoding", "Chunked")]) == .success(.chunked))
    }

    @Test func responseFramingFollowsTheClient() {
        #expect(
            RequestFraming.responseFraming(of: [("Content-Length", "3")], bodyless: false, http10Client: true) == (
                .contentLength(3), false
            ))
        #expect(RequestFraming.responseFraming(of: [], bodyless: true, http10Client: false) == (.none, false))
        // Chunked or read-until-close from the app: chunked to HTTP/1.1, a close for HTTP/1.0.
        #expect(
            RequestFraming.responseFraming(of: [("Transfer-Encoding", "chunked")], bodyless: false, http10Client: false)
                == (.chunked, false))
        #expect(RequestFraming.responseFraming(of: [], bodyless: false, http10Client: true) == (.none, true))
    }
}

@Suite struct ForwardingRulesTests {
    func names(_ headers: ForwardingRules.Headers) -> [String] { headers.map(\.name) }

    @Test func hopByHopFieldsAndTheOnesConnectionNamesNeverCross() {
        let request = ForwardingRules.request(
            [
                ("Host", "a"), ("Connection", "keep-alive, X-Hop"), ("X-Hop", "1"), ("Keep-Alive", "timeout=5"),
                ("TE", "trailers"), ("Proxy-Connection", "keep-alive"), ("Content-Length", "9"), ("X-App", "kept"),
            ], framing: .contentLength(4), client: "10.0.0.7", forwarded: true)
        #expect(
            request.map { "\($0.name): \($0.value)" } == [
                "Host: a", "X-App: kept", "Content-Length: 4", "X-Forwarded-For: 10.0.0.7", "X-Forwarded-Proto: http",
            ])
    }

    @Test func forwardedForIsAppendedAndProtoKept() {
        let request = ForwardingRules.request(
            [("X-Forwarded-For", "203.0.113.1"), ("X-Forwarded-For", "10.1.1.1"), ("X-Forwarded-Proto", "https")],
            framing: .none, client: "127.0.0.1", forwarded: true)
        #expect(request.filter { $0.name == "X-Forwarded-For" }.map(\.value) == ["203.0.113.1, 10.1.1.1, 127.0.0.1"])
        #expect(request.filter { $0.name.lowercased() == "x-forwarded-proto" }.map(\.value) == ["https"])
        let off = ForwardingRules.request(
            [("X-Forwarded-For", "1.2.3.4")], framing: .none, client: "5.6.7.8", forwarded: false)
        #expect(off.map(\.value) == ["1.2.3.4"])
    }

    @Test func anUpgradeCrossesOnlyWhenConnectionNamesIt() {
        let asked = ForwardingRules.request(
            [("Connection", "Upgrade"), ("Upgrade", "websocket")], framing: .none, client: nil, forwarded: false)
        #expect(asked.map { "\($0.name): \($0.value)" } == ["Connection: upgrade", "Upgrade: websocket"])
        let smuggled = ForwardingRules.request(
            [("Upgrade", "websocket")], framing: .none, client: nil, forwarded: false)
        #expect(smuggled.isEmpty)
    }

    @Test func responsesSayWhetherTheConnectionStays() {
        let closing = ForwardingRules.response(
            [("Connection", "keep-alive"), ("Content-Length", "2")], status: 200, framing: .contentLength(2),
            keepAlive: false, http10: false)
        #expect(closing.map { "\($0.name): \($0.value)" } == ["Content-Length: 2", "Connection: close"])
        let http10 = ForwardingRules.response(
            [], status: 200, framing: .contentLength(0), keepAlive: true, http10: true)
        #expect(names(http10) == ["Content-Length", "Connection"])
        #expect(http10.last?.value == "keep-alive")
    }

    @Test func keepAliveAndIdempotence() {
        #expect(ForwardingRules.keepsAlive([], http10: false))
        #expect(!ForwardingRules.keepsAlive([("Connection", "Close")], http10: false))
        #expect(!ForwardingRules.keepsAlive([], http10: true))
        #expect(ForwardingRules.keepsAlive([("Connection", "Keep-Alive")], http10: true))
        #expect(ForwardingRules.isIdempotent("GET") && ForwardingRules.isIdempotent("PUT"))
        #expect(!ForwardingRules.isIdempotent("POST") && !ForwardingRules.isIdempotent("PATCH"))
    }
}

@Suite struct ProxyConfigurationTests {
    @Test func parsesTheDoor() throws {
        let parsed = ConfigurationParser.parse([
            "VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "unix:///run/app.sock", "VIGIL_PROXY_MODE": "TCP",
            "VIGIL_PROXY_TIMEOUT": "30s", "VIGIL_PROXY_QUEUE": "0",
        ])
        #expect(parsed.problems.isEmpty)
        let proxy = try #require(parsed.configuration.proxy)
        #expect(proxy.listen == HostPort(host: "", port: 8080))
        #expect(proxy.upstream == .unix(path: "/run/app.sock"))
        #expect(proxy.mode == .tcp && proxy.timeout == .seconds(30) && proxy.queueLimit == 0)
        #expect(parsed.configuration.drainWatchesConnections)
        #expect(parsed.effective.first { $0.name == "VIGIL_PROXY_UPSTREAM" }?.value == "unix:///run/app.sock")
    }

    @Test func offByDefault() {
        let parsed = ConfigurationParser.parse([:])
        #expect(parsed.configuration.proxy == nil && !parsed.configuration.drainWatchesConnections)
        #expect(parsed.effective.first { $0.name == "VIGIL_PROXY_LISTEN" }?.value == "off")
    }

    @Test(arguments: [
        (
            ["VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": ":8081"], "VIGIL_PROXY_UPSTREAM",
            "needs the app's host, as in 127.0.0.1:8081"
        ),
        (
            ["VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "unix://run.sock"], "VIGIL_PROXY_UPSTREAM",
            "unix:// needs an absolute path, as in unix:///run/app.sock"
        ),
        (
            ["VIGIL_PROXY_LISTEN": "example.com:80", "VIGIL_PROXY_UPSTREAM": "127.0.0.1:1"], "VIGIL_PROXY_LISTEN",
            "the host must be empty, localhost or a numeric IP address"
        ),
        (
            ["VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "127.0.0.1:1", "VIGIL_PROXY_TIMEOUT": "10ms"],
            "VIGIL_PROXY_TIMEOUT", "must be at least 100ms"
        ),
        (
            ["VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "127.0.0.1:1", "VIGIL_PROXY_MAX_CONNECTIONS": "0"],
            "VIGIL_PROXY_MAX_CONNECTIONS", "not a whole number from 1 to 1000000"
        ),
        (
            ["VIGIL_PROXY_LISTEN": ":8080", "VIGIL_PROXY_UPSTREAM": "[::1]:8080"], "VIGIL_PROXY_UPSTREAM",
            "is the front door itself: the app must listen on another port"
        ),
    ])
    func refusesBadValues(environment: [String: String], variable: String, message: String) {
        let problems = ConfigurationParser.parse(environment).problems
        #expect(problems.map(\.variable) == [variable])
        #expect(problems.first?.message == message)
    }
}

@Suite struct DoorTrafficTests {
    @Test func countsResponsesByClassAndLatencyCumulatively() {
        var traffic = DoorTraffic()
        traffic.recordResponse(status: 204, milliseconds: 3)
        traffic.recordResponse(status: 503, milliseconds: 700)
        traffic.recordResponse(status: 999, milliseconds: 20_000)
        #expect(traffic.responses == [0, 1, 0, 0, 2])
        #expect(traffic.latencyBuckets.first == 1)  // le 0.005
        #expect(traffic.latencyBuckets[DoorTraffic.bucketBounds.firstIndex(of: 1)!] == 2)
        #expect(traffic.latencyBuckets.last == 3)  // +Inf
        #expect(traffic.latencySumMilliseconds == 20_703)
        #expect(traffic.isQuiet)
        traffic.tunnels = 1
        #expect(!traffic.isQuiet)
    }
}
