/// The front door (`VIGIL_PROXY_*`): vigil accepts the app's client connections itself and
/// forwards them, so that a drain and an in-place restart can see, finish and hold requests.
public struct ProxyConfiguration: Sendable, Equatable {
    public enum Mode: String, Sendable, CaseIterable {
        /// HTTP/1.x: requests are parsed, re-framed and forwarded one at a time per connection.
        case http
        /// A byte tunnel per connection, for protocols vigil does not speak.
        case tcp
    }

    /// Where the app listens.
    public enum Upstream: Sendable, Equatable, CustomStringConvertible {
        case tcp(HostPort)
        case unix(path: String)

        public var description: String {
            switch self {
            case .tcp(let address):
                address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
            case .unix(let path): "unix://\(path)"
            }
        }

        static func parse(_ text: String) -> Result<Upstream, ValueError> {
            if text.hasPrefix("unix://") {
                let path = String(text.dropFirst("unix://".count))
                guard path.hasPrefix("/") else {
                    return .failure(ValueError("unix:// needs an absolute path, as in unix:///run/app.sock"))
                }
                return .success(.unix(path: path))
            }
            switch HostPort.parse(text, defaultPort: nil) {
            case .success(let address):
                guard !address.host.isEmpty else {
                    return .failure(ValueError("needs the app's host, as in 127.0.0.1:8081"))
                }
                return .success(.tcp(address))
            case .failure(let error):
                return .failure(error)
            }
        }
    }

    public var listen: HostPort
    public var upstream: Upstream
    public var mode: Mode = .http
    /// The app must answer within this (else 504), and come back within this during a restart.
    public var timeout: Duration = .seconds(60)
    /// A client must send a request's headers within this of connecting or of its last response.
    public var headerTimeout: Duration = .seconds(10)
    /// An idle keep-alive client connection is closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// Append `X-Forwarded-For` and `X-Forwarded-Proto`.
    public var forwardedHeaders: Bool = true
    /// Client connections at once; at the limit the longest-idle one makes room.
    public var maxConnections: Int = 10_000
    /// Requests that may wait for the app while it restarts; more get 503.
    public var queueLimit: Int = 1_000
    /// Total header bytes per request; more gets 431.
    public var headerBytes: Int = 64 * 1024

    public init(listen: HostPort, upstream: Upstream) {
        self.listen = listen
        self.upstream = upstream
    }
}
