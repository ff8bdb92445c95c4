/// `vigil wait URL [--ready-for 10s] [--version V] [--timeout 5m]`.
public struct WaitRequest: Equatable, Sendable {
    /// The instance's probe server (`http://host:port`, optionally a path prefix).
    public var base: HTTPTarget
    public var readyFor: Duration = .seconds(10)
    public var version: String? = nil
    public var timeout: Duration = .seconds(300)

    public init(
        base: HTTPTarget, readyFor: Duration = .seconds(10), version: String? = nil,
        timeout: Duration = .seconds(300)
    ) {
        self.base = base
        self.readyFor = readyFor
        self.version = version
        self.timeout = timeout
    }

    /// `path` (`/readyz?verbose`) below the URL's own path.
    public func target(_ path: String) -> HTTPTarget {
        var target = base
        var prefix = base.path
        while prefix.hasSuffix("/") { prefix.removeLast() }
        target.path = prefix + path
        return target
    }
}

extension Invocation {
    static func parseWait(_ arguments: [String]) throws(UsageError) -> WaitRequest {
        var url: String? = nil
        var values: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else {
                guard url == nil else {
                    throw UsageError(description: "vigil wait: unexpected argument \"\(argument)\"")
                }
                url = argument
                continue
            }
            var option = argument
            var value: String? = nil
            if let equals = argument.firstIndex(of: "=") {
                option = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard ["--ready-for", "--version", "--timeout"].contains(option) else {
                throw UsageError(description: "vigil wait: unknown option \(option)")
            }
            guard let given = value ?? rest.popFirst() else {
                throw UsageError(description: "vigil wait: \(option) needs a value")
            }
            values[option] = given
        }
        guard let url else {
            throw UsageError(description: "vigil wait: missing URL, as in vigil wait http://10.0.0.7:7979")
        }
        guard url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://"),
            case .success(.http(let base)) = CheckTargetParser.parse(url)
        else {
            throw UsageError(description: "vigil wait: \"\(url)\" is not an http:// URL, as in http://10.0.0.7:7979")
        }
        var request = WaitRequest(base: base)
        func duration(_ option: String, allowZero: Bool) throws(UsageError) -> Duration? {
            guard let text = values[option] else { return nil }
            guard let parsed = DurationText.parse(text), allowZero || parsed > .zero else {
                throw UsageError(
                    description: "vigil wait: \(option) \"\(text)\" is not a duration, as in \(option) 10s")
            }
            return parsed
        }
        if let readyFor = try duration("--ready-for", allowZero: true) { request.readyFor = readyFor }
        if let timeout = try duration("--timeout", allowZero: false) { request.timeout = timeout }
        if let version = values["--version"] {
            guard !version.isEmpty else { throw UsageError(description: "vigil wait: --version needs a value") }
            request.version = version
        }
        return request
    }
}
