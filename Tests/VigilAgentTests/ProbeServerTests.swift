import NIOCore
import NIOEmbedded
import Testing

@testable import VigilAgent
@testable import VigilCore

/// The probe server in-process: the same pipeline as on a socket, on virtual time.
@Suite struct ProbeServerTests {
    @Test func aBareProbeGetsOkWithTheSafetyHeaders() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let answers = Answer.parse(try harness.exchange("GET /readyz HTTP/1.1\r\nHost: pod\r\n\r\n", on: channel))
        #expect(answers.count == 1)
        #expect(answers.first?.statusLine == "HTTP/1.1 200 OK")
        #expect(answers.first?.body == "ok")
        #expect(answers.first?.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(answers.first?.headers["x-content-type-options"] == "nosniff")
        #expect(answers.first?.headers["cache-control"] == "no-store")
        #expect(channel.isActive, "keep-alive: the connection stays open")
    }

    @Test(arguments: [
        "/livez", "/readyz", "/ready", "/readyz/db", "/startupz", "/healthz?verbose", "/nope", "/livez?format=json",
    ])
    func headAnswersLikeGetWithoutTheBody(_ path: String) throws {
        let harness = ProbeServerHarness(checks: [checkSpec("db")])
        let channel = try harness.connect()
        let head = try #require(Answer.parse(try harness.exchange("HEAD \(path) HTTP/1.1\r\n\r\n", on: channel)).first)
        let get = try #require(Answer.parse(try harness.exchange("GET \(path) HTTP/1.1\r\n\r\n", on: channel)).first)
        #expect(head.statusLine == get.statusLine)
        #expect(head.body.isEmpty && !get.body.isEmpty)
        #expect(head.headers == get.headers, "the same headers, Content-Length of the GET body included")
        #expect(get.headers["content-length"] == String(get.body.utf8.count))
    }

    @Test func headAnswersTheHeadersWithoutTheBody() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        for path in ["/livez", "/livez?verbose"] {
            let text = try harness.exchange("HEAD \(path) HTTP/1.1\r\nHost: pod\r\n\r\n", on: channel)
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(path)")
            #expect(text.hasSuffix("\r\n\r\n"), "\(path): no body after the headers")
            #expect(
                text.contains(
                    "Content-Length: \(path == "/livez" ? 2 : "[+]process ok\nlivez check passed\n".utf8.count)"))
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let harness = ProbeServerHarness(appRunning: false)
        let channel = try harness.connect()
        let requests = "GET /livez HTTP/1.1\r\n\r\nGET /readyz/nothing HTTP/1.1\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n"
        let answers = Answer.parse(try harness.exchange(requests, on: channel))
        #expect(
            answers.map(\.statusLine) == [
                "HTTP/1.1 503 Service Unavailable", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK",
            ])
        #expect(answers.first?.body == "[-]process failed: app is not running\nlivez check failed\n")
        #expect(answers.last?.body.contains("vigil_app_up 0\n") == true)
    }

    @Test func jsonIsAnsweredWhenAcceptAsksForItEvenWhenTheProbePasses() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let text = try harness.exchange("GET /readyz HTTP/1.1\r\nAccept: application/json\r\n\r\n", on: channel)
        let answer = try #require(Answer.parse(text).first)
        #expect(answer.headers["content-type"] == "application/json")
        #expect(answer.body.hasPrefix("{"))
    }

    @Test(arguments: [
        "X-Big: \(String(repeating: "a", count: 17_000))\r\n",
        "X-A: \(String(repeating: "a", count: 9_000))\r\nX-B: \(String(repeating: "b", count: 9_000))\r\n",
        (0..<150).map { "X-Header-\($0): v\r\n" }.joined(),
    ])
    func oversizedHeadersGet431AndTheConnectionCloses(_ headers: String) throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let text = try harness.exchange("GET /readyz HTTP/1.1\r\n\(headers)\r\n", on: channel)
        let answer = try #require(Answer.parse(text).first)
        #expect(answer.statusLine == "HTTP/1.1 431 Request Header Fields Too Large")
        #expect(answer.body == "request headers too large\n")
        #expect(answer.headers["connection"] == "close")
        #expect(answer.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(answer.headers["x-content-type-options"] == "nosniff")
        #expect(answer.headers["cache-control"] == "no-store")
        #expect(!channel.isActive)
    }

    @Test func fifteenKilobytesOfHeadersStillFit() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let fits = String(repeating: "a", count: 15_000)
        let answer = try #require(
            Answer.parse(try harness.exchange("GET /livez HTTP/1.1\r\nX-Fits: \(fits)\r\n\r\n", on: channel)).first)
        #expect(answer.statusLine == "HTTP/1.1 200 OK" && answer.body == "ok")
    }

    @Test func http10KeepAliveKeepsTheConnectionForTheNextRequest() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let requests = "GET /livez HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /readyz HTTP/1.0\r\n\r\n"
        let answers = Answer.parse(try harness.exchange(requests, on: channel))
        #expect(answers.map(\.statusLine) == ["HTTP/1.0 200 OK", "HTTP/1.0 200 OK"])
        #expect(answers.first?.headers["connection"] == "keep-alive")
        #expect(!channel.isActive, "the second, without keep-alive, closes it")
    }

    @Test func connectionCloseEndsAPipelinedSequence() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let requests = "GET /livez HTTP/1.1\r\n\r\nGET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n"
        let answers = Answer.parse(try harness.exchange(requests, on: channel))
        #expect(answers.map(\.body) == ["ok", "ok"])
        #expect(answers.last?.headers["connection"] == "close")
        #expect(!channel.isActive)
    }

    @Test func malformedRequestsGet400() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let answer = try #require(Answer.parse(try harness.exchange("GARBAGE\r\n\r\n", on: channel)).first)
        #expect(answer.statusLine == "HTTP/1.1 400 Bad Request")
        #expect(answer.body == "bad request\n")
        #expect(answer.headers["content-type"] == "text/plain; charset=utf-8")
        #expect(answer.headers["x-content-type-options"] == "nosniff")
        #expect(answer.headers["cache-control"] == "no-store")
        #expect(!channel.isActive)
    }

    @Test func aConnectionThatSendsNothingIsClosedAtTheDeadline() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        harness.loop.advanceTime(by: .milliseconds(4_900))
        #expect(channel.isActive)
        harness.loop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
    }

    @Test func aRequestThatNeverCompletesIsClosedAtTheDeadline() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        try channel.writeInbound(ByteBuffer(string: "GET /readyz HTTP/1.1\r\nHost: slow"))
        harness.loop.advanceTime(by: .seconds(3))
        try channel.writeInbound(ByteBuffer(string: "loris\r\nX-More: 1\r\n"))
        harness.loop.advanceTime(by: .milliseconds(2_100))
        #expect(!channel.isActive, "slowloris: trickling bytes does not extend the deadline")
        let text = try harness.received(on: channel)
        #expect(text.isEmpty, "\(text)")
    }

    @Test func keepAliveGetsAFullDeadlineAfterEachAnswer() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        harness.loop.advanceTime(by: .seconds(3))
        #expect(try harness.exchange("GET /livez HTTP/1.1\r\n\r\n", on: channel).hasPrefix("HTTP/1.1 200 OK"))
        harness.loop.advanceTime(by: .seconds(4))
        #expect(channel.isActive, "5 s from the answer, not from the connection")
        harness.loop.advanceTime(by: .milliseconds(1_100))
        #expect(!channel.isActive)
    }

    @Test func atTheLimitTheLongestIdleConnectionMakesRoom() throws {
        var limits = ProbeServer.Limits()
        limits.connections = 2
        let harness = ProbeServerHarness(limits: limits)
        let first = try harness.connect()
        harness.loop.advanceTime(by: .milliseconds(100))
        let second = try harness.connect()
        harness.loop.advanceTime(by: .milliseconds(100))
        // The first one answers a request: it is now the most recently active.
        _ = try harness.exchange("GET /livez HTTP/1.1\r\n\r\n", on: first)
        harness.loop.advanceTime(by: .milliseconds(100))
        let third = try harness.connect()
        #expect(first.isActive && third.isActive)
        #expect(!second.isActive)
        #expect(harness.server.connections.count == 2)
    }

    @Test func aConnectionWithAPipelinedRequestUnderWayIsNotEvicted() throws {
        var limits = ProbeServer.Limits()
        limits.connections = 2
        let harness = ProbeServerHarness(limits: limits)
        let pipelining = try harness.connect()
        // The second request's head arrives with the first; its body is still on the way.
        let requests = "GET /livez HTTP/1.1\r\n\r\nPOST /drain HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"
        #expect(Answer.parse(try harness.exchange(requests, on: pipelining)).count == 1)
        harness.loop.advanceTime(by: .milliseconds(100))
        let idle = try harness.connect()
        harness.loop.advanceTime(by: .milliseconds(100))
        _ = try harness.connect()
        #expect(pipelining.isActive, "busy with a request: not idle")
        #expect(!idle.isActive)
    }

    @Test func everyConnectionBusyMeansTheNewOneIsRefused() throws {
        var limits = ProbeServer.Limits()
        limits.connections = 1
        let harness = ProbeServerHarness(limits: limits)
        let busy = try harness.connect()
        try busy.writeInbound(ByteBuffer(string: "POST /drain HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"))
        let refused = try harness.connect()
        #expect(busy.isActive)
        #expect(!refused.isActive)
    }

    @Test func adminDrainFromLoopbackWithTheHeaderDrainsAndIsLogged() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let request = "POST /drain HTTP/1.1\r\nX-Vigil-Admin: vigil-cli\r\nUser-Agent: vigil-cli\r\n\r\n"
        let answer = try #require(Answer.parse(try harness.exchange(request, on: channel)).first)
        #expect(answer.statusLine == "HTTP/1.1 200 OK")
        #expect(harness.health.model.draining == .manual)
        let entry = try #require(harness.log.handler.entries.last)
        #expect("\(entry.message)" == "manual drain started (POST /drain)")
        #expect(entry.metadata == ["client": "127.0.0.1", "user_agent": "vigil-cli"])
        let ready = try #require(Answer.parse(try harness.exchange("GET /readyz HTTP/1.1\r\n\r\n", on: channel)).first)
        #expect(ready.statusLine == "HTTP/1.1 503 Service Unavailable")
    }

    @Test func aLoopbackCallWithoutTheHeaderIsRefused() throws {
        // What an app tricked into fetching http://127.0.0.1:7979/drain for a user would send.
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let answer = try #require(Answer.parse(try harness.exchange("POST /drain HTTP/1.1\r\n\r\n", on: channel)).first)
        #expect(answer.statusLine == "HTTP/1.1 403 Forbidden")
        let refusal = "admin calls need the X-Vigil-Admin header, which `vigil drain` sends (VIGIL_ADMIN=local)"
        #expect(answer.body == "forbidden: \(refusal)\n")
        #expect(harness.health.model.draining == nil)
        #expect(harness.log.handler.entries.last?.level == .warning)
    }

    @Test func adminDrainFromAnotherHostIsRefusedAndLogged() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect(from: "10.1.2.3")
        let request = "POST /drain HTTP/1.1\r\nX-Vigil-Admin: 1\r\n\r\n"
        let answer = try #require(Answer.parse(try harness.exchange(request, on: channel)).first)
        #expect(answer.statusLine == "HTTP/1.1 403 Forbidden")
        #expect(harness.health.model.draining == nil)
        let entry = try #require(harness.log.handler.entries.last)
        #expect(entry.level == .warning)
        #expect(entry.metadata["client"] == "10.1.2.3")
    }

    @Test func http10GetsItsAnswerAndTheConnectionCloses() throws {
        let harness = ProbeServerHarness()
        let channel = try harness.connect()
        let answer = try #require(Answer.parse(try harness.exchange("GET /ready HTTP/1.0\r\n\r\n", on: channel)).first)
        #expect(answer.statusLine == "HTTP/1.0 200 OK")
        #expect(answer.body == "ok")
        #expect(!channel.isActive)
    }
}
