import Testing

@testable import VigilCore

/// sock_diag's reply as bytes: one captured from the kernel (Linux 6.18, x86_64), then cut and
/// corrupted every way, which must never trap inside PID 1.
@Suite struct SockDiagReplyTests {
    /// A dump of port 47303 with two connections: one answered (an idle keep-alive connection),
    /// one whose request the app has read and not answered yet. Then the NLMSG_DONE datagram.
    static let captured = bytes(
        """
        9801000014000200070000001f71000002010000b8c7b2347f0000010000000000000000000000007f00000100000000
        000000000000000000000000131000000000000000000000000000000000000000000000134625000500080000000000
        08000f00000000000c001500010000000000000006001600520000001c010200010000000007aa01e01c0300409c0000
        008000001802000000000000000000000000000000000000000000007c00000000000000880000007c000000ffff0000
        cbff0000150000000a000000ffffff7f0b000000cbff00000300000000000000cbff00000000000000e4dee60a000000
        ffffffffffffffff1b000000000000001200000000000000020000000400000000000000140000000100000001000000
        4208013f0000000000000000000000000000000000000000000000000000000002000000000000001b00000000000000
        000000000000000000000000000000000000000000000100000001000000000000000000000000000000000000000000
        0000000000000000000000000000000000000000000000009801000014000200070000001f71000002010000b8c7b23a
        7f0000010000000000000000000000007f00000100000000000000000000000000000000141000000000000000000000
        00000000000000000000000015462500050008000000000008000f00000000000c001500010000000000000006001600
        520000001c010200010000000007aa01400d0300409c0000008000001802000000000000000000000000000000000000
        0000000048000000000000004000000040000000ffff0000cbff0000140000000a000000ffffff7f0a000000cbff0000
        0300000000000000cbff00000000000000e4dee60a000000ffffffffffffffff00000000000000001600000000000000
        010000000300000000000000140000000100000000000000000000000000000000000000000000000000000000000000
        000000000000000001000000000000000000000000000000000000000000000000000000000000000000000000000100
        000001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000
        """)
    static let done = bytes("1400000003000200070000001f71000000000000")

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8).filter { $0 > 32 }.map { UInt8(String(UnicodeScalar($0)), radix: 16)! }
        return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
    }

    @Test func readsTheKernelsReply() {
        var reply = SockDiagReply(sequence: 7)
        #expect(reply.consume(Self.captured) == .more)
        #expect(reply.consume(Self.done) == .done)
        let idle = TCPInfo(
            lastDataSentAgo: 124, lastDataReceivedAgo: 136, lastAckReceivedAgo: 124, unacked: 0, bytesAcked: 27,
            bytesReceived: 18, notSentBytes: 0)
        let busy = TCPInfo(
            lastDataSentAgo: 72, lastDataReceivedAgo: 64, lastAckReceivedAgo: 64, unacked: 0, bytesAcked: 0,
            bytesReceived: 22, notSentBytes: 0)
        #expect(
            reply.connections == [
                TCPConnection(state: 1, localPort: 47303, receiveQueue: 0, sendQueue: 0, info: idle),
                TCPConnection(state: 1, localPort: 47303, receiveQueue: 0, sendQueue: 0, info: busy),
            ])
        #expect(DrainCount.of(reply.connections, localPorts: [47303]) == DrainCount(open: 2, busy: 1))
        #expect(DrainCount.of(reply.connections, localPorts: [8080]) == DrainCount(open: 0, busy: 0))
    }

    @Test func anotherRequestsMessagesAreSkipped() {
        var reply = SockDiagReply(sequence: 8)
        #expect(reply.consume(Self.captured) == .more)
        #expect(reply.consume(Self.done) == .more)
        #expect(reply.connections.isEmpty)
    }

    @Test func everyCutOfTheReplyIsMalformedOrAPrefixNeverATrap() {
        for length in 0..<Self.captured.count {
            var reply = SockDiagReply(sequence: 7)
            let progress = reply.consume(Array(Self.captured[0..<length]))
            let whole = length == 0 || length == 408
            #expect(progress == (whole ? .more : .malformed), "cut at \(length)")
            #expect(reply.connections.count == (length < 408 ? 0 : 1))
        }
    }

    @Test func corruptedBytesNeverTrap() {
        var generator = SplitMix(seed: 13)
        var outcomes: Set<String> = []
        for _ in 0..<20_000 {
            var bytes = Self.captured
            for _ in 0..<Int(generator.next() % 4 + 1) {
                let index = Int(generator.next() % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: generator.next())
            }
            var reply = SockDiagReply(sequence: 7)
            outcomes.insert("\(reply.consume(bytes))")
            #expect(reply.connections.count <= 2)
        }
        #expect(outcomes.contains("malformed") && outcomes.contains("more"))
    }

    @Test func hostileHeadersAreMalformed() {
        var header = Self.done
        for length: UInt32 in [0, 15, 21, 0xffff_ffff] {
            header.replaceSubrange(0..<4, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })
            var reply = SockDiagReply(sequence: 7)
            #expect(reply.consume(header) == .malformed, "nlmsg_len \(length)")
        }
        var reply = SockDiagReply(sequence: 7)
        #expect(reply.consume(Array(Self.done[0..<15])) == .malformed)
    }

    /// The captured reply's first message with its inet_diag_msg or attributes changed.
    static func firstMessage(_ change: (inout [UInt8]) -> Void) -> SockDiagReply.Progress {
        var bytes = Array(captured[0..<408])
        change(&bytes)
        var reply = SockDiagReply(sequence: 7)
        return reply.consume(bytes)
    }

    @Test func hostileAttributesAreMalformed() {
        // The first attribute starts at 16 + 72: its length 0 (no progress), or past the message.
        #expect(
            Self.firstMessage {
                $0[88] = 0
                $0[89] = 0
            } == .malformed)
        #expect(
            Self.firstMessage {
                $0[88] = 0xff
                $0[89] = 0x7f
            } == .malformed)
        // A message too short for its inet_diag_msg.
        #expect(
            Self.firstMessage {
                $0 = Array($0[0..<60])
                $0[0] = 60
                $0[1] = 0
            } == .malformed)
    }

    @Test func aShortTCPInfoHasNoTimesOrNoCounters() {
        let start = 16 + 72 + 5 + 3 + 8 + 12 + 6 + 2  // past the attributes before INET_DIAG_INFO
        #expect(Self.captured[start + 2] == 2, "INET_DIAG_INFO")
        func reply(infoLength: Int) -> TCPConnection? {
            var bytes = Array(Self.captured[0..<(start + 4 + infoLength)])
            bytes[0] = UInt8(bytes.count & 0xff)
            bytes[1] = UInt8(bytes.count >> 8)
            bytes[start] = UInt8((4 + infoLength) & 0xff)
            bytes[start + 1] = UInt8((4 + infoLength) >> 8)
            var reply = SockDiagReply(sequence: 7)
            _ = reply.consume(bytes)
            return reply.connections.first
        }
        #expect(reply(infoLength: 56)?.info == nil)
        #expect(reply(infoLength: 104)?.info?.lastDataSentAgo == 124)
        #expect(reply(infoLength: 104)?.info?.bytesReceived == nil)
        #expect(reply(infoLength: 140)?.info?.bytesReceived == 18)
        #expect(reply(infoLength: 140)?.info?.notSentBytes == nil)
    }

    static func control(type: UInt16, code: Int32?) -> [UInt8] {
        let payload = code.map { withUnsafeBytes(of: $0.littleEndian) { Array($0) } } ?? []
        let length = UInt32(16 + payload.count)
        return withUnsafeBytes(of: length.littleEndian) { Array($0) }
            + withUnsafeBytes(of: type.littleEndian) { Array($0) }
            + [0, 0, 7, 0, 0, 0, 0, 0, 0, 0] + payload
    }

    @Test func errorsAndTheDumpsResult() {
        func progress(_ bytes: [UInt8]) -> SockDiagReply.Progress {
            var reply = SockDiagReply(sequence: 7)
            return reply.consume(bytes)
        }
        #expect(progress(Self.control(type: 2, code: -1)) == .failed(errno: 1))
        #expect(progress(Self.control(type: 2, code: Int32.min)) == .failed(errno: Int32.max))
        #expect(progress(Self.control(type: 2, code: 0)) == .more, "an acknowledgement")
        #expect(progress(Self.control(type: 2, code: nil)) == .malformed)
        #expect(progress(Self.control(type: 3, code: -4)) == .failed(errno: 4))
        #expect(progress(Self.control(type: 3, code: nil)) == .done, "before Linux 4.20: no result")
        #expect(progress(Self.control(type: 4, code: nil)) == .malformed, "NLMSG_OVERRUN")
        #expect(progress(Self.control(type: 1, code: nil)) == .more, "NLMSG_NOOP")
    }
}
