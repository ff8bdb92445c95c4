import VigilSystem

#if canImport(Glibc)
import Glibc
#endif

/// A listening socket on 127.0.0.1 and one connection to it, both ends in this process, with
/// blocking calls: the kernel's view of a connection, step by step, for the drain's tests.
struct LoopbackPair {
    let listener: Int32
    let client: Int32
    let server: Int32
    let port: Int

    init() throws {
        let stream = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let listener = socket(AF_INET, stream, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try Self.check("bind", withUnsafePointer(to: &address) { bind(listener, Self.generic($0), length) })
        try Self.check("listen", listen(listener, 4))
        try Self.check(
            "getsockname", withUnsafeMutablePointer(to: &address) { getsockname(listener, Self.generic($0), &length) })
        let client = socket(AF_INET, stream, 0)
        try Self.check("connect", withUnsafePointer(to: &address) { connect(client, Self.generic($0), length) })
        let server = accept(listener, nil, nil)
        try Self.check("accept", server)
        self.listener = listener
        self.client = client
        self.server = server
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        for fd in [client, server, listener] { _ = Glibc.close(fd) }
    }

    func send(from fd: Int32, _ text: String) throws {
        let bytes = Array(text.utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        try Self.check("send", sent == bytes.count ? 0 : -1)
    }

    /// Reads what has arrived (at least a byte).
    func receive(on fd: Int32) throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        try Self.check("recv", count > 0 ? 0 : -1)
    }

    /// Whether `condition` holds within 2 s: the peer's ACK of a response may be delayed (40 ms).
    func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<400 {
            if try condition() { return true }
            usleep(5000)
        }
        return false
    }

    private static func generic(_ pointer: UnsafePointer<sockaddr_in>) -> UnsafePointer<sockaddr> {
        UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self)
    }

    private static func generic(_ pointer: UnsafeMutablePointer<sockaddr_in>) -> UnsafeMutablePointer<sockaddr> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: sockaddr.self)
    }

    private static func check<T: BinaryInteger>(_ call: String, _ result: T) throws {
        if result < 0 { throw SystemError(call, errno: errno) }
    }
}
