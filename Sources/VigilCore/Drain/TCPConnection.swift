/// One server-side TCP connection as the kernel's sock_diag reports it: what the drain needs to
/// tell a request in flight from an idle keep-alive connection.
public struct TCPConnection: Equatable, Sendable {
    public static let established: UInt8 = 1
    public static let closeWait: UInt8 = 8

    /// The TCP state (`TCP_ESTABLISHED`, `TCP_CLOSE_WAIT`, …).
    public var state: UInt8
    public var localPort: Int
    /// `idiag_rqueue`: received and not yet read by the app, plus a FIN the app has not read yet.
    public var receiveQueue: UInt32
    /// `idiag_wqueue`: written by the app and not yet acknowledged by the peer (unsent included).
    public var sendQueue: UInt32
    /// nil when the kernel sent no `tcp_info`, or one too short to hold its times.
    public var info: TCPInfo?

    public init(state: UInt8, localPort: Int, receiveQueue: UInt32, sendQueue: UInt32, info: TCPInfo?) {
        self.state = state
        self.localPort = localPort
        self.receiveQueue = receiveQueue
        self.sendQueue = sendQueue
        self.info = info
    }
}

/// The fields of the kernel's `struct tcp_info` the drain reads. The times are milliseconds ago,
/// counted in jiffies (1–10 ms, the kernel's HZ), so two events in one tick read the same.
public struct TCPInfo: Equatable, Sendable {
    public var lastDataSentAgo: UInt32
    public var lastDataReceivedAgo: UInt32
    public var lastAckReceivedAgo: UInt32
    public var unacked: UInt32
    /// Linux 4.2 and later; nil from older kernels.
    public var bytesAcked: UInt64?
    public var bytesReceived: UInt64?
    /// Linux 4.6 and later.
    public var notSentBytes: UInt32?

    public init(
        lastDataSentAgo: UInt32, lastDataReceivedAgo: UInt32, lastAckReceivedAgo: UInt32 = 0, unacked: UInt32 = 0,
        bytesAcked: UInt64? = nil, bytesReceived: UInt64? = nil, notSentBytes: UInt32? = nil
    ) {
        self.lastDataSentAgo = lastDataSentAgo
        self.lastDataReceivedAgo = lastDataReceivedAgo
        self.lastAckReceivedAgo = lastAckReceivedAgo
        self.unacked = unacked
        self.bytesAcked = bytesAcked
        self.bytesReceived = bytesReceived
        self.notSentBytes = notSentBytes
    }
}

extension TCPConnection {
    /// Whether a request is in flight: the app has data to read, data not yet delivered, or it
    /// received data after it last sent any (a request it has not answered yet). An idle keep-alive
    /// connection (its last response sent after its last request, nothing queued) is not, and
    /// neither is a connection that has received nothing yet (no request so far).
    ///
    /// Both times count from the same clock tick, so a request and its response in one tick tie;
    /// a tie is read as answered, except when the app has received bytes and never sent one (the
    /// first request, which usually arrives in the tick the connection was opened). What this
    /// cannot see: a next request that arrives in the tick its predecessor was answered, and a
    /// response the app streams in parts, between two parts.
    public var hasRequestInFlight: Bool {
        // Without tcp_info nothing tells idle from busy: count it, as the drain did before.
        guard let info else { return true }
        // In CLOSE_WAIT the peer's FIN counts as one byte until the app reads the end of the stream.
        let unread = state == Self.closeWait ? max(Int(receiveQueue) - 1, 0) : Int(receiveQueue)
        if unread > 0 || sendQueue > 0 { return true }
        if info.notSentBytes ?? 0 > 0 { return true }
        if let received = info.bytesReceived, let acked = info.bytesAcked {
            if received == 0 { return false }
            if acked == 0 { return true }
        }
        return info.lastDataReceivedAgo < info.lastDataSentAgo
    }
}

/// What the connection-aware drain counts on the drain ports.
public struct DrainCount: Equatable, Sendable {
    /// Connections open (established or half-closed by the peer).
    public var open: Int
    /// Those with a request in flight (`TCPConnection.hasRequestInFlight`).
    public var busy: Int

    public init(open: Int, busy: Int) {
        self.open = open
        self.busy = busy
    }

    public static func of(_ connections: [TCPConnection], localPorts ports: Set<Int>) -> DrainCount {
        var count = DrainCount(open: 0, busy: 0)
        for connection in connections where ports.contains(connection.localPort) {
            count.open += 1
            if connection.hasRequestInFlight { count.busy += 1 }
        }
        return count
    }
}
