/// `VIGIL_PROXY_*`: the front door. Each value is parsed into a draft; `validateProxy` then
/// turns the draft into `Configuration.proxy` once LISTEN and UPSTREAM are both known.
struct ProxyDraft {
    var listen: HostPort? = nil
    var upstream: ProxyConfiguration.Upstream? = nil
    var settings = ProxyConfiguration(listen: HostPort(host: "", port: 1), upstream: .unix(path: "/"))
}

extension ConfigurationParser {
    /// Sets one of the proxy settings; the problem's message when the value is bad.
    mutating func applyProxy(_ name: String, _ value: String) -> String? {
        func duration(_ assign: (inout ProxyConfiguration, Duration) -> Void) -> String? {
            guard let parsed = DurationText.parse(value) else { return DurationText.problem(value) }
            guard parsed >= .milliseconds(100) else { return "must be at least 100ms" }
            assign(&proxyDraft.settings, parsed)
            return nil
        }
        func count(_ range: ClosedRange<Int>, _ assign: (inout ProxyConfiguration, Int) -> Void) -> String? {
            guard let parsed = Int(value), range.contains(parsed) else {
                return "not a whole number from \(range.lowerBound) to \(range.upperBound)"
            }
            assign(&proxyDraft.settings, parsed)
            return nil
        }
        switch name {
        case "VIGIL_PROXY_LISTEN":
            guard !value.isEmpty, value.lowercased() != "off" else { return nil }
            switch HostPort.parse(value, defaultPort: nil) {
            case .success(let address):
                guard address.host.isEmpty || address.host == "localhost" || IPAddressText.isNumeric(address.host)
                else { return "the host must be empty, localhost or a numeric IP address" }
                proxyDraft.listen = address
            case .failure(let error):
                return error.message
            }
        case "VIGIL_PROXY_UPSTREAM":
            guard !value.isEmpty else { return nil }
            switch ProxyConfiguration.Upstream.parse(value) {
            case .success(let upstream): proxyDraft.upstream = upstream
            case .failure(let error): return error.message
            }
        case "VIGIL_PROXY_MODE":
            guard let mode = ProxyConfiguration.Mode(rawValue: value.lowercased()) else {
                return "not one of http, tcp"
            }
            proxyDraft.settings.mode = mode
        case "VIGIL_PROXY_TIMEOUT": return duration { $0.timeout = $1 }
        case "VIGIL_PROXY_HEADER_TIMEOUT": return duration { $0.headerTimeout = $1 }
        case "VIGIL_PROXY_IDLE_TIMEOUT": return duration { $0.idleTimeout = $1 }
        case "VIGIL_PROXY_FORWARDED":
            guard let flag = BooleanText.parse(value) else { return "not true or false" }
            proxyDraft.settings.forwardedHeaders = flag
        case "VIGIL_PROXY_MAX_CONNECTIONS": return count(1...1_000_000) { $0.maxConnections = $1 }
        case "VIGIL_PROXY_QUEUE": return count(0...100_000) { $0.queueLimit = $1 }
        default:
            break
        }
        return nil
    }

    func canonicalProxy(_ name: String, _ text: String) -> String {
        let settings = proxyDraft.settings
        switch name {
        case "VIGIL_PROXY_LISTEN": return proxyDraft.listen.map { ListenText.format($0) } ?? "off"
        case "VIGIL_PROXY_UPSTREAM": return proxyDraft.upstream?.description ?? ""
        case "VIGIL_PROXY_MODE": return settings.mode.rawValue
        case "VIGIL_PROXY_TIMEOUT": return DurationText.format(settings.timeout)
        case "VIGIL_PROXY_HEADER_TIMEOUT": return DurationText.format(settings.headerTimeout)
        case "VIGIL_PROXY_IDLE_TIMEOUT": return DurationText.format(settings.idleTimeout)
        case "VIGIL_PROXY_FORWARDED": return String(settings.forwardedHeaders)
        default: return text
        }
    }

    mutating func validateProxy() {
        // A value already refused says enough: not also "must be set with …".
        let refused = Set(problems.map(\.variable))
        guard !refused.contains("VIGIL_PROXY_LISTEN") && !refused.contains("VIGIL_PROXY_UPSTREAM") else { return }
        switch (proxyDraft.listen, proxyDraft.upstream) {
        case (nil, nil):
            return
        case (nil, .some):
            problems.append(
                ConfigurationProblem(
                    variable: "VIGIL_PROXY_LISTEN", value: nil,
                    message: "must be set with VIGIL_PROXY_UPSTREAM: the port clients connect to",
                    example: "VIGIL_PROXY_LISTEN=:8080"))
        case (.some, nil):
            problems.append(
                ConfigurationProblem(
                    variable: "VIGIL_PROXY_UPSTREAM", value: nil,
                    message: "must be set with VIGIL_PROXY_LISTEN: where the app listens",
                    example: "VIGIL_PROXY_UPSTREAM=127.0.0.1:8081"))
        case (.some(let listen), .some(let upstream)):
            if let probes = configuration.listen, probes.port == listen.port {
                problems.append(
                    ConfigurationProblem(
                        variable: "VIGIL_PROXY_LISTEN", value: ListenText.format(listen),
                        message: "uses the probe server's port (VIGIL_LISTEN)", example: "VIGIL_PROXY_LISTEN=:8080"))
                return
            }
            if case .tcp(let app) = upstream, app.port == listen.port, Self.isLocal(app.host) {
                problems.append(
                    ConfigurationProblem(
                        variable: "VIGIL_PROXY_UPSTREAM", value: upstream.description,
                        message: "is the front door itself: the app must listen on another port",
                        example: "VIGIL_PROXY_UPSTREAM=127.0.0.1:8081"))
                return
            }
            var proxy = proxyDraft.settings
            proxy.listen = listen
            proxy.upstream = upstream
            configuration.proxy = proxy
        }
    }

    private static func isLocal(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "0.0.0.0" || host == "::"
    }
}
