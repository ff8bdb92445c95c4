import NIOCore
import NIOPosix
import VigilCore

/// How every vigil port is bound (the probe server, the front door): an empty host means every
/// interface, dual-stack IPv6 or, where the network namespace has no IPv6, all IPv4 interfaces;
/// `localhost` means 127.0.0.1.
enum Listening {
    static func bind(
        _ address: HostPort, _ bootstrap: @escaping @Sendable () -> ServerBootstrap
    )
        -> EventLoopFuture<Channel>
    {
        let host: String
        switch address.host {
        case "": host = "::"
        case "localhost": host = "127.0.0.1"
        default: host = address.host
        }
        let bound = bootstrap().bind(host: host, port: address.port)
        guard address.host.isEmpty else { return bound }
        return bound.flatMapError { _ in bootstrap().bind(host: "0.0.0.0", port: address.port) }
    }
}

extension SocketAddress {
    /// The peer's IP address as a log line or `X-Forwarded-For` shows it: an IPv4-mapped IPv6
    /// address (a dual-stack listener's IPv4 client) as plain IPv4.
    var clientIP: String? {
        guard let ip = ipAddress else { return nil }
        return ip.hasPrefix("::ffff:") ? String(ip.dropFirst("::ffff:".count)) : ip
    }
}
