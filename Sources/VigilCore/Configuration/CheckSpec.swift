/// The three questions Kubernetes asks.
public enum Probe: String, CaseIterable, Sendable, Hashable, Comparable {
    case startup
    case live
    case ready

    public static func < (lhs: Probe, rhs: Probe) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// The path's name in kube-apiserver style bodies (`readyz check passed`).
    public var endpointName: String {
        switch self {
        case .startup: "startupz"
        case .live: "livez"
        case .ready: "readyz"
        }
    }
}

public struct HTTPTarget: Equatable, Sendable {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// Path and query, starting with `/`.
    public var path: String

    public init(secure: Bool, host: String, port: Int, path: String) {
        self.secure = secure
        self.host = host
        self.port = port
        self.path = path
    }

    /// The `Host` header value: the host, bracketed when IPv6, with the port when not the default.
    public var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }
}

/// `grpc://host:port[/service]`: a `grpc.health.v1.Health/Check` call, over h2c or (grpcs) TLS.
public struct GRPCTarget: Equatable, Sendable {
    public var secure: Bool
    public var host: String
    public var port: Int
    /// The service asked about; empty: the server as a whole.
    public var service: String

    public init(secure: Bool, host: String, port: Int, service: String = "") {
        self.secure = secure
        self.host = host
        self.port = port
        self.service = service
    }

    /// The `:authority` pseudo-header: the host (127.0.0.1 when empty, as it is connected to),
    /// bracketed when IPv6, and the port.
    public var authority: String { ListenText.format(HostPort(host: host.isEmpty ? "127.0.0.1" : host, port: port)) }
}

public enum CheckTarget: Equatable, Sendable {
    case http(HTTPTarget)
    case grpc(GRPCTarget)
    case tcp(host: String, port: Int)
    case unix(path: String)
    case exec(arguments: [String])
    case file(path: String)

    public var kind: String {
        switch self {
        case .http(let target): target.secure ? "https" : "http"
        case .grpc(let target): target.secure ? "grpcs" : "grpc"
        case .tcp: "tcp"
        case .unix: "unix"
        case .exec: "exec"
        case .file: "file"
        }
    }
}

/// A set of HTTP status codes such as `200-299,302`.
public struct StatusSet: Equatable, Sendable, CustomStringConvertible {
    public var ranges: [ClosedRange<Int>]

    public init(ranges: [ClosedRange<Int>]) { self.ranges = ranges }

    public static let kubelet = StatusSet(ranges: [200...399])

    public func contains(_ status: Int) -> Bool { ranges.contains { $0.contains(status) } }

    public static func parse(_ text: String) -> StatusSet? {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
                .map { Int(String($0).trimmingASCIIWhitespace()) }
            guard (1...2).contains(bounds.count), let low = bounds.first!, let high = bounds.last!,
                (100...599).contains(low), (100...599).contains(high), low <= high
            else { return nil }
            ranges.append(low...high)
        }
        return ranges.isEmpty ? nil : StatusSet(ranges: ranges)
    }

    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }
}

/// One configured check: `VIGIL_CHECK_<NAME>` and its options.
public struct CheckSpec: Equatable, Sendable {
    public var name: String
    public var target: CheckTarget
    public var probes: Set<Probe> = [.ready]
    public var interval: Duration = .seconds(5)
    /// The interval until the check first passes (since the app started); nil: `interval`.
    public var startInterval: Duration? = nil
    public var timeout: Duration = .seconds(1)
    public var failures: Int = 3
    public var successes: Int = 1
    public var delay: Duration = .zero
    public var expectStatus: StatusSet = .kubelet
    public var expectBody: String? = nil
    public var maxAge: Duration? = nil

    public init(name: String, target: CheckTarget) {
        self.name = name
        self.target = target
    }

    public func feeds(_ probe: Probe) -> Bool { probes.contains(probe) }

    /// The time from the start of one run to the next: `START_INTERVAL` until the check has
    /// passed once since the app (re)started, `INTERVAL` after.
    public func interval(hasPassed: Bool) -> Duration { hasPassed ? interval : startInterval ?? interval }
}
