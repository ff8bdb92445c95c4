import NIOCore
import NIOPosix

/// Turns a check's host into a socket address. Numeric addresses and `localhost` need no lookup:
/// a static binary's getaddrinfo only works where glibc's NSS libraries exist (not in scratch),
/// so names go through /etc/hosts first and then getaddrinfo on a thread pool, off the event loop.
struct AddressResolver {
    /// Started on first use: most configurations never need it, and a thread costs start-up time.
    let threadPool: () -> NIOThreadPool

    func resolve(host: String, port: Int, on loop: EventLoop) -> EventLoopFuture<SocketAddress> {
        if host == "localhost" || host.isEmpty {
            return loop.makeCompletedFuture { try SocketAddress(ipAddress: "127.0.0.1", port: port) }
        }
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            return loop.makeSucceededFuture(address)
        }
        if let mapped = HostsFile.lookup(host), let address = try? SocketAddress(ipAddress: mapped, port: port) {
            return loop.makeSucceededFuture(address)
        }
        return threadPool().runIfActive(eventLoop: loop) {
            try SocketAddress.makeAddressResolvingHost(host, port: port)
        }
    }
}

enum HostsFile {
    static func lookup(_ name: String) -> String? {
        guard let bytes = VigilSystemFiles.read("/etc/hosts") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, fields.dropFirst().contains(where: { $0 == name }) { return String(fields[0]) }
        }
        return nil
    }
}
