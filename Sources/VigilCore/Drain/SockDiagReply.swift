/// The kernel's sock_diag netlink protocol for TCP, as bytes: the port filter sent with the
/// request, and the reply read datagram by datagram. Offsets are the kernel's ABI (checked against
/// the C headers in CVigilSystem's sockdiag.c); every read is bounds-checked, so a short or hostile
/// reply ends as `.malformed`, never as a trap in PID 1.
public enum SockDiag {
    /// The states the drain asks for. CLOSE_WAIT too: a client that half-closes after sending its
    /// request (HTTP/1.0 tools, `shutdown(SHUT_WR)`) still waits for the response.
    public static let states: UInt32 = 1 << UInt32(TCPConnection.established) | 1 << UInt32(TCPConnection.closeWait)

    /// Above this many ports the filter is left to user space (`DrainCount.of` filters anyway).
    public static let filterLimit = 256

    /// An `INET_DIAG_REQ_BYTECODE` program matching sockets whose local port is one of `ports`, so
    /// the kernel sends only those; empty (no filter) when there are none or too many. For each
    /// port: `S_EQ port` (yes: next op, no: the next port's test), then a `JMP` to the end (accept);
    /// the last test's "no" jumps 4 past the end (reject). The kernel's audit follows the "yes"
    /// chain, so every op must sit on it, as in iproute2's `ss`.
    public static func portFilter(_ ports: [Int]) -> [UInt8] {
        var unique: [Int] = []
        for port in ports where (1...65535).contains(port) && !unique.contains(port) { unique.append(port) }
        guard !unique.isEmpty, unique.count <= filterLimit else { return [] }
        var program: [UInt8] = []
        for (index, port) in unique.enumerated() {
            program += op(code: 11, yes: 8, no: 12)  // INET_DIAG_BC_S_EQ
            program += op(code: 0, yes: 0, no: UInt16(port))  // its operand: the port, in `no`
            let after = unique.count - 1 - index
            if after > 0 { program += op(code: 1, yes: 4, no: UInt16(4 + 12 * (after - 1) + 8)) }  // JMP
        }
        return program
    }

    /// `struct inet_diag_bc_op` in host byte order.
    private static func op(code: UInt8, yes: UInt8, no: UInt16) -> [UInt8] {
        [code, yes] + withUnsafeBytes(of: no) { Array($0) }
    }
}

/// The reply to one dump request, fed datagram by datagram until `.done`.
public struct SockDiagReply {
    public enum Progress: Equatable, Sendable {
        /// More datagrams follow.
        case more
        case done
        /// The kernel refused or aborted the dump (`NLMSG_ERROR`, or `NLMSG_DONE` with an error).
        case failed(errno: Int32)
        /// The bytes are not a sock_diag reply.
        case malformed
    }

    static let headerSize = 16
    static let messageSize = 72
    static let typeDone: UInt16 = 3
    static let typeError: UInt16 = 2
    static let typeOverrun: UInt16 = 4
    static let typeSockDiag: UInt16 = 20
    static let attributeInfo: UInt16 = 2

    public let sequence: UInt32
    public private(set) var connections: [TCPConnection] = []

    /// Messages of another request (another sequence number) are skipped.
    public init(sequence: UInt32) {
        self.sequence = sequence
    }

    public mutating func consume(_ datagram: [UInt8]) -> Progress {
        let bytes = ByteReader(datagram)
        var offset = 0
        while offset < datagram.count {
            guard let length = bytes.u32(offset).map(Int.init), length >= Self.headerSize,
                length <= datagram.count - offset, let type = bytes.u16(offset + 4), let seq = bytes.u32(offset + 8)
            else { return .malformed }
            let payload = offset + Self.headerSize
            let end = offset + length
            if seq == sequence {
                switch type {
                case Self.typeDone:
                    // Since Linux 4.20 the payload holds the dump's result; 0 or absent is success.
                    if let result = bytes.i32(payload), payload + 4 <= end, result < 0 {
                        return .failed(errno: Self.errno(result))
                    }
                    return .done
                case Self.typeError:
                    guard let code = bytes.i32(payload), payload + 4 <= end else { return .malformed }
                    if code != 0 { return .failed(errno: Self.errno(code)) }  // 0: an acknowledgement
                case Self.typeOverrun:
                    return .malformed
                case Self.typeSockDiag:
                    guard let connection = Self.connection(bytes, from: payload, to: end) else { return .malformed }
                    connections.append(connection)
                default:
                    break  // NLMSG_NOOP and types a later kernel may add
                }
            }
            offset += (length + 3) & ~3
        }
        return .more
    }

    /// The kernel reports errors negated; Int32.min has no positive counterpart.
    private static func errno(_ negative: Int32) -> Int32 {
        negative == Int32.min ? Int32.max : abs(negative)
    }

    /// An `inet_diag_msg` and its attributes in `bytes[start..<end]`.
    static func connection(_ bytes: ByteReader, from start: Int, to end: Int) -> TCPConnection? {
        guard end - start >= messageSize, let state = bytes.u8(start + 1), let port = bytes.u16BigEndian(start + 4),
            let receiveQueue = bytes.u32(start + 56), let sendQueue = bytes.u32(start + 60)
        else { return nil }
        var info: TCPInfo? = nil
        var offset = start + messageSize
        while offset + 4 <= end {
            guard let length = bytes.u16(offset).map(Int.init), length >= 4, length <= end - offset,
                let type = bytes.u16(offset + 2)
            else { return nil }
            if type & 0x3fff == attributeInfo { info = tcpInfo(bytes, from: offset + 4, count: length - 4) }
            offset += (length + 3) & ~3
        }
        return TCPConnection(
            state: state, localPort: Int(port), receiveQueue: receiveQueue, sendQueue: sendQueue, info: info)
    }

    /// `struct tcp_info`, as long as the kernel made it: older kernels send a shorter one.
    static func tcpInfo(_ bytes: ByteReader, from start: Int, count: Int) -> TCPInfo? {
        guard count >= 60, let unacked = bytes.u32(start + 24), let sent = bytes.u32(start + 44),
            let received = bytes.u32(start + 52), let ack = bytes.u32(start + 56)
        else { return nil }
        var info = TCPInfo(
            lastDataSentAgo: sent, lastDataReceivedAgo: received, lastAckReceivedAgo: ack, unacked: unacked)
        if count >= 136 {
            info.bytesAcked = bytes.u64(start + 120)
            info.bytesReceived = bytes.u64(start + 128)
        }
        if count >= 148 { info.notSentBytes = bytes.u32(start + 144) }
        return info
    }
}

/// Bounds-checked reads of integers from bytes in the host's order (netlink's), nil past the end.
struct ByteReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func u8(_ offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    func u16BigEndian(_ offset: Int) -> UInt16? {
        guard offset >= 0, offset <= bytes.count - 2 else { return nil }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    func u16(_ offset: Int) -> UInt16? {
        unsigned(offset, size: 2).map { UInt16(truncatingIfNeeded: $0) }.map { UInt16(littleEndian: $0) }
    }

    func u32(_ offset: Int) -> UInt32? {
        unsigned(offset, size: 4).map { UInt32(truncatingIfNeeded: $0) }.map { UInt32(littleEndian: $0) }
    }

    func i32(_ offset: Int) -> Int32? {
        u32(offset).map { Int32(bitPattern: $0) }
    }

    func u64(_ offset: Int) -> UInt64? {
        unsigned(offset, size: 8).map { UInt64(littleEndian: $0) }
    }

    /// The bytes read as a little-endian number; `init(littleEndian:)` turns it into the host's.
    private func unsigned(_ offset: Int, size: Int) -> UInt64? {
        guard offset >= 0, offset <= bytes.count - size else { return nil }
        var value: UInt64 = 0
        for index in 0..<size { value |= UInt64(bytes[offset + index]) << (8 * index) }
        return value
    }
}
