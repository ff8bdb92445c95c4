import CVigilSystem
import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// The drain's view of TCP connections through sock_diag netlink: the kernel's per-socket queues
/// and `tcp_info`, which tell a request in flight from an idle keep-alive connection. It needs no
/// privilege for the sockets of vigil's own network namespace, which are the app's.
public enum SockDiagConnections {
    /// A dump's datagrams are at most 32 KiB; MSG_TRUNC reports a longer one as an error anyway.
    static let bufferSize = 65536

    /// The TCP connections (established, or half-closed by the peer) whose local port is one of
    /// `ports`, IPv4 and IPv6 (IPv4-mapped ones on dual-stack sockets too), over a fresh socket,
    /// so that nothing of an earlier, interrupted dump can be read as this one.
    public static func connections(onLocalPorts ports: [Int]) throws(SystemError) -> [TCPConnection] {
        let fd = try retryingEINTR("socket(AF_NETLINK, NETLINK_SOCK_DIAG)") { cvigil_sock_diag_open() }
        defer { close(fd) }
        let filter = SockDiag.portFilter(ports)
        var buffer = [UInt8](repeating: 0, count: bufferSize)
        var found: [TCPConnection] = []
        for (index, family) in [AF_INET, AF_INET6].enumerated() {
            let sequence = UInt32(index + 1)
            try retryingEINTR("sock_diag request") {
                filter.withUnsafeBytes {
                    cvigil_sock_diag_request(fd, family, SockDiag.states, $0.baseAddress, $0.count, sequence)
                }
            }
            var reply = SockDiagReply(sequence: sequence)
            while true {
                let length = try retryingEINTR("sock_diag receive") {
                    buffer.withUnsafeMutableBytes { cvigil_sock_diag_receive(fd, $0.baseAddress, $0.count) }
                }
                guard length > 0, length <= buffer.count else { throw SystemError("sock_diag reply", errno: EMSGSIZE) }
                let progress = reply.consume(Array(buffer[0..<length]))
                if progress == .done { break }
                if case .failed(let code) = progress { throw SystemError("sock_diag", errno: code) }
                if progress == .malformed { throw SystemError("sock_diag reply", errno: EBADMSG) }
            }
            found += reply.connections
        }
        return found
    }
}
