/// Parses the value of `VIGIL_CHECK_<NAME>` into a target. Errors are the message part of a
/// configuration problem ("unknown scheme …").
enum CheckTargetParser {
    static let example = "http://127.0.0.1:8080/health"

    static func parse(_ value: String) -> Result<CheckTarget, ValueError> {
        if value.hasPrefix("exec:") {
            let command = String(value.dropFirst("exec:".count))
            do {
                let words = try ShellWords.split(command)
                guard !words.isEmpty else { return .failure(ValueError("exec: needs a command")) }
                return .success(.exec(arguments: words))
            } catch {
                return .failure(
                    ValueError(
                        error == .unterminatedQuote
                            ? "unterminated quote in the command" : "trailing backslash in the command"))
            }
        }
        guard let schemeEnd = TextSearch.firstRange(of: "://", in: value) else {
            return .failure(
                ValueError(
                    "not a check target (use http://, https://, grpc://, grpcs://, tcp://, unix://, exec: or file://)"))
        }
        let scheme = value[..<schemeEnd.lowerBound].lowercased()
        let rest = String(value[schemeEnd.upperBound...])
        switch scheme {
        case "http", "https":
            let secure = scheme == "https"
            return address(rest, defaultPort: secure ? 443 : 80).map { hostPort, path in
                let path = path.isEmpty ? "/" : path
                return .http(HTTPTarget(secure: secure, host: hostPort.host, port: hostPort.port, path: path))
            }
        case "grpc", "grpcs":
            // The port is required, as in kubelet's grpc probe: gRPC has no well-known port.
            return address(rest, defaultPort: nil).map { hostPort, path in
                .grpc(
                    GRPCTarget(
                        secure: scheme == "grpcs", host: hostPort.host, port: hostPort.port,
                        service: String(path.dropFirst())))
            }
        case "tcp":
            let authority = rest.hasSuffix("/") ? String(rest.dropLast()) : rest
            switch HostPort.parse(authority, defaultPort: nil) {
            case .success(let hostPort): return .success(.tcp(host: hostPort.host, port: hostPort.port))
            case .failure(let error): return .failure(error)
            }
        case "unix":
            guard rest.hasPrefix("/") else {
                return .failure(ValueError("unix:// needs an absolute path, as in unix:///run/app.sock"))
            }
            return .success(.unix(path: rest))
        case "file":
            guard rest.hasPrefix("/") else {
                return .failure(ValueError("file:// needs an absolute path, as in file:///tmp/heartbeat"))
            }
            return .success(.file(path: rest))
        default:
            return .failure(
                ValueError("unknown scheme \"\(scheme)\" (use http, https, grpc, grpcs, tcp, unix, exec or file)"))
        }
    }

    /// `host:port` up to the first `/` of a URL's rest, and the rest from that `/` (empty without one).
    private static func address(_ rest: String, defaultPort: Int?) -> Result<(HostPort, String), ValueError> {
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = String(rest[..<slash])
        if authority.contains("@") { return .failure(ValueError("credentials in the URL are not supported")) }
        return HostPort.parse(authority, defaultPort: defaultPort).map { ($0, String(rest[slash...])) }
    }
}

/// `host:port`, `[v6]:port`, `:port` (empty host), as used by check targets and `VIGIL_LISTEN`.
public struct HostPort: Equatable, Sendable {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    static func parse(_ text: String, defaultPort: Int?) -> Result<HostPort, ValueError> {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return .failure(ValueError("unclosed [ in the address")) }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                return .failure(ValueError("unexpected \"\(after)\" after the address"))
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { return .failure(ValueError("an IPv6 address needs brackets, as in [::1]:8080")) }
        } else {
            host = Substring(text)
        }
        let port: Int
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                return .failure(ValueError("port \"\(portText)\" is not between 1 and 65535"))
            }
            port = value
        } else if let defaultPort {
            port = defaultPort
        } else {
            return .failure(ValueError("missing port"))
        }
        return .success(HostPort(host: String(host), port: port))
    }
}

/// Why a value was rejected; becomes the message of a configuration problem.
struct ValueError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}
