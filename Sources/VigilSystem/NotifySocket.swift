import CVigilSystem

#if canImport(Glibc)
import Glibc
#endif

/// The sd_notify socket: an abstract-namespace unix datagram socket (no file, so it works on a
/// read-only root filesystem and as any user) whose datagrams carry the sender's credentials.
public struct NotifySocket: Sendable {
    public let fd: Int32
    /// The value of `NOTIFY_SOCKET` for the app: `@` and the abstract name.
    public let address: String

    /// One datagram and who sent it.
    public struct Datagram: Sendable {
        public var bytes: [UInt8]
        /// From SCM_CREDENTIALS; 0 when the kernel gave none.
        public var senderPid: Int32
        /// The sender's process group when it was received; -1 when unknown (it exited already).
        public var senderGroup: Int32
    }

    /// The most of a datagram kept (systemd accepts up to a few KiB of assignments).
    static let capacity = 4096

    public static func open(name: String) throws(SystemError) -> NotifySocket {
        let fd = try retryingEINTR("socket") { cvigil_notify_socket(name) }
        return NotifySocket(fd: fd, address: "@" + name)
    }

    /// Blocks until a datagram arrives.
    public func receive() throws(SystemError) -> Datagram {
        var buffer = [UInt8](repeating: 0, count: Self.capacity)
        var pid: pid_t = 0
        var group: pid_t = -1
        let count = try retryingEINTR("recvmsg") {
            buffer.withUnsafeMutableBytes { cvigil_notify_receive(fd, $0.baseAddress, $0.count, &pid, &group) }
        }
        return Datagram(bytes: Array(buffer[0..<count]), senderPid: pid, senderGroup: group)
    }
}
