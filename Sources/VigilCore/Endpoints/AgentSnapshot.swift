/// Everything an HTTP answer is computed from, captured at one moment.
public struct AgentSnapshot: Sendable {
    public var health: HealthModel
    public var moment: Moment
    public var appPid: Int32?
    public var restarts: Int
    public var details: DetailsPolicy
    public var admin: AdminPolicy
    public var adminToken: String?
    public var identity = Identity()
    /// The front door's traffic, when `VIGIL_PROXY_LISTEN` is set.
    public var door: DoorTraffic? = nil

    public init(
        health: HealthModel, moment: Moment, appPid: Int32?, restarts: Int,
        details: DetailsPolicy, admin: AdminPolicy, adminToken: String?
    ) {
        self.health = health
        self.moment = moment
        self.appPid = appPid
        self.restarts = restarts
        self.details = details
        self.admin = admin
        self.adminToken = adminToken
    }
}

/// The parts of a request routing needs.
public struct EndpointRequest: Sendable {
    public var method: String
    public var uri: String
    public var isLoopback: Bool
    public var accept: String?
    public var authorization: String?
    /// The `X-Vigil-Admin` header, which `vigil drain` sends and a forged request cannot.
    public var adminHeader: String?

    /// The header a local admin call must carry (`VIGIL_ADMIN=local`).
    public static let adminHeaderName = "X-Vigil-Admin"

    public init(
        method: String, uri: String, isLoopback: Bool, accept: String? = nil, authorization: String? = nil,
        adminHeader: String? = nil
    ) {
        self.method = method
        self.uri = uri
        self.isLoopback = isLoopback
        self.accept = accept
        self.authorization = authorization
        self.adminHeader = adminHeader
    }
}

public enum AdminCommand: Sendable, Equatable { case startDrain, cancelDrain }

public struct EndpointReply: Sendable, Equatable {
    public var status: Int
    public var contentType: String
    public var body: String
    public var headers: [String: String] = [:]
    /// What the agent must do (admin endpoints), after which the reply is sent.
    public var command: AdminCommand? = nil
    /// A line for vigil's log (admin actions and refusals).
    public var logLine: String? = nil

    public static let textType = "text/plain; charset=utf-8"
    static let jsonType = "application/json"
    static let metricsType = "text/plain; version=0.0.4; charset=utf-8"
    static let openMetricsType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    static func text(_ status: Int, _ body: String) -> EndpointReply {
        EndpointReply(status: status, contentType: textType, body: body)
    }
}

/// `?verbose&exclude=a&exclude=b&format=json`.
public struct QueryParameters: Sendable, Equatable {
    public var items: [(String, String)]

    public static func == (a: Self, b: Self) -> Bool { a.items.elementsEqual(b.items, by: ==) }

    public init(_ query: Substring) {
        items = query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (percentDecode(parts[0]), parts.count > 1 ? percentDecode(parts[1]) : "")
        }
    }

    public func has(_ key: String) -> Bool { items.contains { $0.0 == key } }
    public func values(_ key: String) -> [String] { items.filter { $0.0 == key }.map(\.1) }
    public func value(_ key: String) -> String? { values(key).last }
}

func percentDecode(_ text: Substring) -> String {
    var bytes: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: byte - 48
        case 65...70: byte - 55
        case 97...102: byte - 87
        default: nil
        }
    }
    while let byte = iterator.next() {
        if byte == 37, let high = iterator.next(), let low = iterator.next(), let h = hex(high), let l = hex(low) {
            bytes.append(h << 4 | l)
        } else if byte == 43 {
            bytes.append(32)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
