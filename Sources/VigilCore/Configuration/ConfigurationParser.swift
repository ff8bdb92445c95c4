/// Reads `VIGIL_*` variables into a `Configuration`. Pure: takes the environment as a dictionary.
public struct ConfigurationParser {
    let environment: [String: String]
    var configuration = Configuration()
    var effective: [EffectiveSetting] = []
    var problems: [ConfigurationProblem] = []
    var proxyDraft = ProxyDraft()

    public static func parse(_ environment: [String: String]) -> ParsedConfiguration {
        var parser = ConfigurationParser(environment: environment)
        return parser.run()
    }

    init(environment: [String: String]) {
        self.environment = environment.filter { $0.key.hasPrefix("VIGIL_") }
    }

    mutating func run() -> ParsedConfiguration {
        parseGlobals()
        parseChecks()
        reportUnknownNames()
        crossValidate()
        validateNotify()
        validateProxy()
        problems.sort { $0.variable < $1.variable }
        return ParsedConfiguration(
            configuration: configuration, effective: effective, problems: problems, warnings: warnings())
    }

    // MARK: - Global settings

    mutating func parseGlobals() {
        for setting in Settings.global {
            let raw = environment[setting.name]
            let text = raw ?? setting.defaultValue
            let error = apply(setting.name, text)
            if let error {
                problems.append(
                    ConfigurationProblem(
                        variable: setting.name, value: setting.isSecret ? nil : text, message: error,
                        example: "\(setting.name)=\(setting.example)"))
            }
            let shown = setting.isSecret ? (text.isEmpty ? "" : "(set, hidden)") : canonical(setting.name, text)
            effective.append(
                EffectiveSetting(name: setting.name, value: shown, source: raw == nil ? .default : .environment))
        }
    }

    /// Sets one global; returns the problem's message when the value is bad.
    mutating func apply(_ name: String, _ text: String) -> String? {
        let value = text.trimmingASCIIWhitespace()
        func duration(_ assign: (inout Configuration, Duration) -> Void) -> String? {
            guard let parsed = DurationText.parse(value) else {
                return DurationText.problem(value)
            }
            assign(&configuration, parsed)
            return nil
        }
        func choice<T: RawRepresentable>(_ type: T.Type, _ assign: (inout Configuration, T) -> Void) -> String?
        where T.RawValue == String {
            guard let parsed = T(rawValue: value.lowercased()) else { return "not one of \(choices(T.self))" }
            assign(&configuration, parsed)
            return nil
        }
        switch name {
        case "VIGIL_LISTEN":
            if value.lowercased() == "off" {
                configuration.listen = nil
                return nil
            }
            switch HostPort.parse(value, defaultPort: nil) {
            case .success(let hostPort):
                guard hostPort.host.isEmpty || hostPort.host == "localhost" || IPAddressText.isNumeric(hostPort.host)
                else {
                    return "the host must be empty, localhost or a numeric IP address"
                }
                configuration.listen = hostPort
                return nil
            case .failure(let error):
                return error.message
            }
        case "VIGIL_SIGNAL_TARGET": return choice(SignalTarget.self) { $0.signalTarget = $1 }
        case "VIGIL_STOP_SIGNAL":
            guard let signal = SignalNames.parse(value) else {
                return "not a signal that can be caught (use a name like SIGTERM or QUIT, or a number)"
            }
            configuration.stopSignal = signal
            return nil
        case "VIGIL_SHUTDOWN_SIGNALS":
            var signals: [Int32] = []
            for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                guard let signal = SignalNames.parse(String(part)), signal != 17 else {
                    return "not a comma-separated list of signals that can be caught, SIGCHLD excepted"
                }
                if !signals.contains(signal) { signals.append(signal) }
            }
            configuration.shutdownSignals = signals
            return nil
        case "VIGIL_STOP_TIMEOUT": return duration { $0.stopTimeout = $1 }
        case "VIGIL_LOG_FORMAT": return choice(LogFormat.self) { $0.logFormat = $1 }
        case "VIGIL_LOG_LEVEL":
            if value.lowercased() == "warning" {
                configuration.logLevel = .warn
                return nil
            }
            return choice(LogLevelSetting.self) { $0.logLevel = $1 }
        case "VIGIL_MIN_READY": return duration { $0.minReady = $1 }
        case "VIGIL_DRAIN_DELAY": return duration { $0.drainDelay = $1 }
        case "VIGIL_DRAIN_PORTS":
            var ports: [Int] = []
            for part in value.split(separator: ",") {
                guard let port = Int(String(part).trimmingASCIIWhitespace()), (1...65535).contains(port) else {
                    return "not a comma-separated list of ports between 1 and 65535"
                }
                ports.append(port)
            }
            configuration.drainPorts = ports
            return nil
        case "VIGIL_DRAIN_TIMEOUT": return duration { $0.drainTimeout = $1 }
        case "VIGIL_RESTART": return choice(RestartPolicy.self) { $0.restart = $1 }
        case "VIGIL_RESTART_BACKOFF_MAX":
            guard let parsed = DurationText.parse(value), parsed >= .seconds(1) else {
                return "not a duration of at least 1s"
            }
            configuration.restartBackoffMax = parsed
            return nil
        case "VIGIL_RESTART_LIMIT":
            guard let limit = Int(value), (0...10_000).contains(limit) else {
                return "not a whole number from 0 (no limit) to 10000"
            }
            configuration.restartLimit = limit
            return nil
        case "VIGIL_RESTART_WINDOW":
            guard let parsed = DurationText.parse(value), parsed >= .seconds(1) else {
                return "not a duration of at least 1s"
            }
            configuration.restartWindow = parsed
            return nil
        case "VIGIL_RESTART_UNHEALTHY":
            guard let flag = BooleanText.parse(value) else { return "not true or false" }
            configuration.restartUnhealthy = flag
            return nil
        case "VIGIL_DETAILS": return choice(DetailsPolicy.self) { $0.details = $1 }
        case "VIGIL_ADMIN": return choice(AdminPolicy.self) { $0.admin = $1 }
        case "VIGIL_ADMIN_TOKEN":
            configuration.adminToken = value.isEmpty ? nil : value
            return nil
        case "VIGIL_VERSION":
            // A label value and a line of /status: printable, and short enough to read.
            guard value.utf8.count <= 128 else { return "longer than 128 bytes" }
            guard value.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value != 127 }) else {
                return "must not hold control characters"
            }
            configuration.version = value.isEmpty ? nil : value
            return nil
        default:
            return name.hasPrefix("VIGIL_PROXY_") ? applyProxy(name, value) : applyNotify(name, value)
        }
    }

    func choices<T: RawRepresentable>(_ type: T.Type) -> String where T.RawValue == String {
        let all: [String]
        switch type {
        case is SignalTarget.Type: all = ["group", "child"]
        case is LogFormat.Type: all = ["text", "json"]
        case is LogLevelSetting.Type: all = ["debug", "info", "warn", "error"]
        case is RestartPolicy.Type: all = ["never", "on-failure", "always"]
        case is DetailsPolicy.Type: all = ["local", "always", "never"]
        case is AdminPolicy.Type: all = ["local", "token", "off"]
        default: all = []
        }
        return all.joined(separator: ", ")
    }

    func canonical(_ name: String, _ text: String) -> String {
        let c = configuration
        switch name {
        case "VIGIL_LISTEN": return c.listen.map { ListenText.format($0) } ?? "off"
        case "VIGIL_SIGNAL_TARGET": return c.signalTarget.rawValue
        case "VIGIL_STOP_SIGNAL": return SignalNames.name(c.stopSignal)
        case "VIGIL_SHUTDOWN_SIGNALS": return c.shutdownSignals.map(SignalNames.name).joined(separator: ",")
        case "VIGIL_STOP_TIMEOUT": return DurationText.format(c.stopTimeout)
        case "VIGIL_LOG_FORMAT": return c.logFormat.rawValue
        case "VIGIL_LOG_LEVEL": return c.logLevel.rawValue
        case "VIGIL_MIN_READY": return DurationText.format(c.minReady)
        case "VIGIL_DRAIN_DELAY": return DurationText.format(c.drainDelay)
        case "VIGIL_DRAIN_PORTS": return c.drainPorts.map(String.init).joined(separator: ",")
        case "VIGIL_DRAIN_TIMEOUT": return DurationText.format(c.drainTimeout)
        case "VIGIL_RESTART": return c.restart.rawValue
        case "VIGIL_RESTART_BACKOFF_MAX": return DurationText.format(c.restartBackoffMax)
        case "VIGIL_RESTART_LIMIT": return String(c.restartLimit)
        case "VIGIL_RESTART_WINDOW": return DurationText.format(c.restartWindow)
        case "VIGIL_RESTART_UNHEALTHY": return String(c.restartUnhealthy)
        case "VIGIL_NOTIFY": return String(c.notify)
        case "VIGIL_NOTIFY_WATCHDOG": return DurationText.format(c.notifyWatchdog ?? .zero)
        case "VIGIL_NOTIFY_FD": return c.notifyFD.map(String.init) ?? ""
        case "VIGIL_DETAILS": return c.details.rawValue
        case "VIGIL_ADMIN": return c.admin.rawValue
        default: return name.hasPrefix("VIGIL_PROXY_") ? canonicalProxy(name, text) : text
        }
    }

    // MARK: - Unknown names and cross-checks

    mutating func reportUnknownNames() {
        let known = Set(Settings.global.map(\.name))
        if environment[Settings.checkPrefix] != nil {
            problems.append(
                ConfigurationProblem(
                    variable: Settings.checkPrefix, value: nil, message: "a check needs a name after VIGIL_CHECK_",
                    example: "VIGIL_CHECK_DB=tcp://127.0.0.1:5432"))
        }
        for key in environment.keys.sorted() where !known.contains(key) && !key.hasPrefix(Settings.checkPrefix) {
            if let suggestion = checkPrefixSuggestion(key) {
                problems.append(
                    ConfigurationProblem(
                        variable: key, value: nil, message: "unknown setting; did you mean \(suggestion)?",
                        example: "\(suggestion)=\(CheckTargetParser.example)"))
                continue
            }
            let suggestion = EditDistance.closest(to: key, among: Settings.global.map(\.name) + ["VIGIL_CHECK_<NAME>"])
            var message = "unknown setting"
            var example: String? = nil
            if let suggestion {
                message += "; did you mean \(suggestion)?"
                if let setting = Settings.setting(named: suggestion) { example = "\(suggestion)=\(setting.example)" }
            } else {
                message += " (see `vigil config` for the known ones)"
            }
            problems.append(ConfigurationProblem(variable: key, value: nil, message: message, example: example))
        }
    }

    mutating func crossValidate() {
        // Without a probe server nothing can see readiness fail, so there is nothing to wait for
        // unless the user asks (a load balancer checking the app's own port, say).
        if configuration.listen == nil && environment["VIGIL_DRAIN_DELAY"] == nil {
            configuration.drainDelay = .zero
            if let index = effective.firstIndex(where: { $0.name == "VIGIL_DRAIN_DELAY" }) {
                effective[index].value = "0s"
            }
        }
        if configuration.admin == .token && configuration.adminToken == nil {
            problems.append(
                ConfigurationProblem(
                    variable: "VIGIL_ADMIN_TOKEN", value: nil, message: "must be set when VIGIL_ADMIN=token",
                    example: "VIGIL_ADMIN_TOKEN=s3cret-token"))
        }
        for index in configuration.checks.indices {
            // The default timeout follows a shorter interval; only an explicit one is an error.
            let key = Settings.checkPrefix + configuration.checks[index].name.uppercased() + "_TIMEOUT"
            if environment[key] == nil {
                configuration.checks[index].timeout = min(
                    configuration.checks[index].timeout, configuration.checks[index].interval)
                if let entry = effective.firstIndex(where: { $0.name == key }) {
                    effective[entry].value = DurationText.format(configuration.checks[index].timeout)
                }
            }
        }
        // An explicit TIMEOUT longer than INTERVAL is fine, as in kubelet, Docker and Consul: runs
        // never overlap, the next one starts when the previous one ended.
    }

    func warnings() -> [String] {
        var warnings: [String] = []
        let worst = configuration.worstCaseStopDuration
        if worst > Configuration.kubernetesDefaultGracePeriod {
            let drainName = configuration.drainWatchesConnections ? "VIGIL_DRAIN_TIMEOUT" : "VIGIL_DRAIN_DELAY"
            warnings.append(
                "\(drainName) + VIGIL_STOP_TIMEOUT = \(DurationText.format(worst)), "
                    + "more than Kubernetes' default grace period of 30s: "
                    + "raise the pod's terminationGracePeriodSeconds to at least "
                    + "\(Int(worst.secondsValue.rounded(.up)) + 5), or lower them"
            )
        }
        return warnings
    }
}
