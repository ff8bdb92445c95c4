import NIOCore
import NIOEmbedded
import Testing
import VigilSystem

@testable import VigilAgent
@testable import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// The drain watcher on virtual time, with the kernel's answers given as values.
@Suite struct DrainWatcherTests {
    static func counts(_ pairs: [(open: Int, busy: Int)]) -> [Result<DrainCount, SystemError>] {
        pairs.map { .success(DrainCount(open: $0.open, busy: $0.busy)) }
    }

    @Test func waitsForBusyConnectionsNotOpenOnesAndLogsEachChange() {
        let loop = EmbeddedEventLoop()
        let log = CapturedLog()
        var readings = Self.counts([(3, 2), (3, 2), (3, 1), (2, 0), (2, 0)])
        let sources = DrainWatcher.Sources(inFlight: { readings.removeFirst() }, established: { 99 })
        let watcher = DrainWatcher(loop: loop, ports: [8080, 8443], logger: log.logger, sources: sources)
        var closed = 0
        watcher.start { closed += 1 }
        for _ in 0..<3 { loop.advanceTime(by: DrainWatcher.pollInterval) }
        #expect(closed == 1, "idle connections (open 2, busy 0) do not hold the drain")
        #expect(readings.count == 1, "no poll after the zero")
        #expect(log.messages == Array(repeating: "drain: waiting for requests in flight", count: 3))
        let pairs = log.handler.entries.map { entry in
            ["busy", "open"].map { entry.metadata[$0].map { "\($0)" } ?? "-" }.joined(separator: "/")
        }
        #expect(pairs == ["2/3", "1/3", "0/2"])
        #expect(log.handler.entries.first?.metadata["ports"] == "8080,8443")
    }

    @Test func whereSockDiagIsRefusedItCountsEstablishedConnectionsAndSaysSoOnce() {
        let loop = EmbeddedEventLoop()
        let log = CapturedLog()
        var sockDiagCalls = 0
        var established = [2, 2, 1, 0]
        let sources = DrainWatcher.Sources(
            inFlight: {
                sockDiagCalls += 1
                return .failure(SystemError("socket(AF_NETLINK, NETLINK_SOCK_DIAG)", errno: EPROTONOSUPPORT))
            },
            established: { established.removeFirst() })
        let watcher = DrainWatcher(loop: loop, ports: [80], logger: log.logger, sources: sources)
        var closed = 0
        watcher.start { closed += 1 }
        for _ in 0..<5 { loop.advanceTime(by: DrainWatcher.pollInterval) }
        #expect(closed == 1)
        #expect(sockDiagCalls == 1, "a refusal is not retried")
        #expect(
            log.messages == [
                "drain: sock_diag is not available (socket(AF_NETLINK, NETLINK_SOCK_DIAG): protocol not supported): "
                    + "counting every established connection on the drain ports, idle keep-alive ones too",
                "drain: waiting for connections to close", "drain: waiting for connections to close",
                "drain: waiting for connections to close",
            ])
        #expect(log.handler.entries.first?.level == .warning)
        #expect(log.handler.entries.dropFirst().map { $0.metadata["open"].map { "\($0)" } } == ["2", "1", "0"])
        #expect(log.handler.entries.dropFirst().allSatisfy { $0.metadata["busy"] == nil })
    }

    @Test func cancelStopsPolling() {
        let loop = EmbeddedEventLoop()
        var polls = 0
        let sources = DrainWatcher.Sources(
            inFlight: {
                polls += 1
                return .success(DrainCount(open: 1, busy: 1))
            }, established: { 1 })
        let watcher = DrainWatcher(loop: loop, ports: [80], logger: CapturedLog().logger, sources: sources)
        watcher.start {}
        loop.advanceTime(by: DrainWatcher.pollInterval)
        watcher.cancel()
        loop.advanceTime(by: .seconds(1))
        #expect(polls == 2)
    }

    /// The real kernel, through sock_diag, for one loopback connection driven by hand: a
    /// request and its response move the count, an idle connection does not hold it.
    @Test func theKernelSeesARequestInFlight() throws {
        let pair = try LoopbackPair()
        defer { pair.close() }
        let count = { try DrainWatcher.Sources.kernel(ports: [pair.port]).inFlight().get() }
        #expect(try count() == DrainCount(open: 1, busy: 0), "connected, nothing asked yet")
        try pair.send(from: pair.client, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try count() == DrainCount(open: 1, busy: 1), "a request unread")
        try pair.receive(on: pair.server)
        #expect(try count() == DrainCount(open: 1, busy: 1), "a request read, not answered")
        try pair.send(from: pair.server, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        try pair.receive(on: pair.client)
        #expect(try pair.eventually { try count() == DrainCount(open: 1, busy: 0) }, "answered: idle keep-alive")
        // A later clock tick than the response's: within the same one the two would tie, which reads
        // as answered (TCPConnection.hasRequestInFlight).
        usleep(25_000)
        try pair.send(from: pair.client, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
        try pair.receive(on: pair.server)
        #expect(try count() == DrainCount(open: 1, busy: 1), "the next request on the same connection")
        // The kernel's port filter with several ports, and with none of the connection's.
        #expect(
            try DrainWatcher.Sources.kernel(ports: [1, pair.port, 3]).inFlight().get() == DrainCount(open: 1, busy: 1))
        #expect(try DrainWatcher.Sources.kernel(ports: [1]).inFlight().get() == DrainCount(open: 0, busy: 0))
    }
}
