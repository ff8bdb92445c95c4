import Testing

@testable import VigilCore

/// The drain's rule: which connections have a request in flight.
@Suite struct RequestInFlightTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let connection: TCPConnection
        let busy: Bool
        var testDescription: String { name }
    }

    static func connection(
        state: UInt8 = TCPConnection.established, unread: UInt32 = 0, unsent: UInt32 = 0, sentAgo: UInt32,
        receivedAgo: UInt32, acked: UInt64? = 100, received: UInt64? = 40, notSent: UInt32? = 0
    ) -> TCPConnection {
        let info = TCPInfo(
            lastDataSentAgo: sentAgo, lastDataReceivedAgo: receivedAgo, bytesAcked: acked, bytesReceived: received,
            notSentBytes: notSent)
        return TCPConnection(state: state, localPort: 8080, receiveQueue: unread, sendQueue: unsent, info: info)
    }

    static let closeWait = TCPConnection.closeWait
    static let cases: [Case] = [
        Case(
            name: "idle keep-alive: answered 100 ms ago", connection: connection(sentAgo: 100, receivedAgo: 104),
            busy: false),
        Case(name: "request read, not answered", connection: connection(sentAgo: 900, receivedAgo: 40), busy: true),
        Case(
            name: "connected, nothing received yet",
            connection: connection(sentAgo: 500, receivedAgo: 500, acked: 0, received: 0), busy: false),
        Case(
            name: "first request in the tick the connection opened",
            connection: connection(sentAgo: 30, receivedAgo: 30, acked: 0, received: 18), busy: true),
        Case(
            name: "first request, the app has not read it",
            connection: connection(
                unread: 18, sentAgo: 30, receivedAgo: 30, acked: 0, received: 18), busy: true),
        Case(name: "request and response in one tick", connection: connection(sentAgo: 8, receivedAgo: 8), busy: false),
        Case(name: "a request unread", connection: connection(unread: 60, sentAgo: 50, receivedAgo: 100), busy: true),
        Case(
            name: "a response not yet acknowledged", connection: connection(unsent: 19, sentAgo: 0, receivedAgo: 2),
            busy: true),
        Case(
            name: "written, not yet sent", connection: connection(sentAgo: 5, receivedAgo: 9, notSent: 4096), busy: true
        ),
        Case(
            name: "half-closed by the client, answered, the FIN unread",
            connection: connection(state: closeWait, unread: 1, sentAgo: 20, receivedAgo: 60), busy: false
        ),
        Case(
            name: "half-closed by the client, request not answered",
            connection: connection(state: closeWait, unread: 1, sentAgo: 60, receivedAgo: 20), busy: true),
        Case(
            name: "half-closed with a byte of request unread",
            connection: connection(state: closeWait, unread: 2, sentAgo: 20, receivedAgo: 60), busy: true),
        Case(
            name: "one byte unread while established", connection: connection(unread: 1, sentAgo: 20, receivedAgo: 60),
            busy: true),
        Case(
            name: "a kernel without byte counters: the times decide",
            connection: connection(sentAgo: 30, receivedAgo: 30, acked: nil, received: nil, notSent: nil), busy: false),
        Case(
            name: "a kernel without byte counters, a request waiting",
            connection: connection(sentAgo: 30, receivedAgo: 10, acked: nil, received: nil, notSent: nil), busy: true),
        Case(
            name: "no tcp_info: cannot tell, so it counts",
            connection: TCPConnection(state: 1, localPort: 8080, receiveQueue: 0, sendQueue: 0, info: nil), busy: true),
    ]

    @Test(arguments: cases)
    func rule(_ example: Case) {
        #expect(example.connection.hasRequestInFlight == example.busy)
    }

    @Test func theCountKeepsOnlyTheDrainPorts() {
        var other = Self.connection(sentAgo: 900, receivedAgo: 40)
        other.localPort = 9090
        let connections = [
            Self.connection(sentAgo: 900, receivedAgo: 40), Self.connection(sentAgo: 10, receivedAgo: 40), other,
        ]
        #expect(DrainCount.of(connections, localPorts: [8080]) == DrainCount(open: 2, busy: 1))
        #expect(DrainCount.of(connections, localPorts: [8080, 9090]) == DrainCount(open: 3, busy: 2))
        #expect(DrainCount.of([], localPorts: [8080]) == DrainCount(open: 0, busy: 0))
    }
}

/// The kernel-side port filter sent with the dump request.
@Suite struct SockDiagFilterTests {
    @Test func onePortIsOneTest() {
        // S_EQ (yes: 8, no: 12 = 4 past the end: reject), then the port in the next op's `no`.
        #expect(SockDiag.portFilter([8080]) == [11, 8, 12, 0, 0, 0, 0x90, 0x1f])
    }

    @Test func severalPortsAreTestsJoinedByJumpsToTheEnd() {
        #expect(
            SockDiag.portFilter([80, 443, 80, 8080, 0, 70000]) == [
                11, 8, 12, 0, 0, 0, 80, 0, 1, 4, 24, 0,  // port 80, else the next test; JMP 24: the end
                11, 8, 12, 0, 0, 0, 0xbb, 0x01, 1, 4, 12, 0,  // port 443
                11, 8, 12, 0, 0, 0, 0x90, 0x1f,  // port 8080, else 4 past the end: reject
            ])
    }

    @Test func noPortsOrTooManyMeanNoFilter() {
        #expect(SockDiag.portFilter([]) == [])
        #expect(SockDiag.portFilter([0]) == [])
        #expect(SockDiag.portFilter(Array(1...SockDiag.filterLimit)).count == 12 * SockDiag.filterLimit - 4)
        #expect(SockDiag.portFilter(Array(1...(SockDiag.filterLimit + 1))) == [])
    }

    @Test func theStatesAreEstablishedAndCloseWait() {
        #expect(SockDiag.states == 0b1_0000_0010)
    }
}
