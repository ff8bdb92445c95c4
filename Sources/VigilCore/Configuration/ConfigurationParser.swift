/// Reads `VIGIL_*` variables into a `Configuration`. Pure: takes the environment as a dictionary.
public struct ConfigurationParser {
    private let environment: [String: String]
    private var configuration = Configuration()
    private var effective: [EffectiveSetting] = []
    private var problems: [ConfigurationProblem] = []

    public static func parse(_ environment: [String: String]) -> ParsedConfiguration {
        var parser = ConfigurationParser(environment: environment)
        return parser.run()
    }

    private init(environment: [String: String]) {
        self.environment = environment.filter { $0.key.hasPrefix("VIGIL_") }
    }

    private mutating func run() -> ParsedConfiguration {
        parseGlobals()
        parseChecks()
        reportUnknownNames()
        crossValidate()
        problems.sort { $0.variable < $1.variable }
        return ParsedConfiguration(
            configuration: configuration, effective: effective, problems: problems, warnings: warnings())
    }

    // MARK: - Global settings

    private mutating func parseGlobals() {
        for setting in Settings.global {
            let raw = environment[setting.name]
            let text = raw ?? setting.defaultValue
            let error = apply(setting.name, text)
            if let error {
                problems.append(ConfigurationProblem(
                    variable: setting.name, value: setting.isSecret ? nil : text, message: error,
                    example: "\(setting.name)=\(setting.example)"))
            }
            let shown = setting.isSecret ? (text.isEmpty ? "" : "(set, hidden)") : canonical(setting.name, text)
            effective.append(EffectiveSetting(name: setting.name, value: shown, source: raw == nil ? .default : .environment))
        }
    }

    /// Sets one global; returns the problem's message when the value is bad.
    private mutating func apply(_ name: String, _ text: String) -> String? {
        let value = text.trimmingASCIIWhitespace()
        func duration(_ assign: (inout Configuration, Duration) -> Void) -> String? {
            guard let parsed = DurationText.parse(value) else { return "not a duration (use 500ms, 5s, 1m30s or a number of seconds)" }
            assign(&configuration, parsed)
            return nil
        }
        func choice<T: RawRepresentable>(_ type: T.Type, _ assign: (inout Configuration, T) -> Void) -> String? where T.RawValue == String {
            guard let parsed = T(rawValue: value.lowercased()) else { return "not one of \(choices(T.self))" }
            assign(&configuration, parsed)
            return nil
        }
        switch name {
        case "VIGIL_LISTEN":
            if value.lowercased() == "off" { configuration.listen = nil; return nil }
            switch HostPort.parse(value, defaultPort: nil) {
            case .success(let hostPort):
                guard hostPort.host.isEmpty || hostPort.host == "localhost" || IPAddressText.isNumeric(hostPort.host) else {
                    return "the host must be empty, localhost or a numeric IP address"
                }
                configuration.listen = hostPort
                return nil
            case .failure(let error):
                return error.message
            }
        case "VIGIL_SIGNAL_TARGET": return choice(SignalTarget.self) { $0.signalTarget = $1 }
        case "VIGIL_STOP_SIGNAL":
            guard let signal = SignalNames.parse(value) else { return "not a signal that can be caught (use a name like SIGTERM or QUIT, or a number)" }
            configuration.stopSignal = signal
            return nil
        case "VIGIL_STOP_TIMEOUT": return duration { $0.stopTimeout = $1 }
        case "VIGIL_LOG_FORMAT": return choice(LogFormat.self) { $0.logFormat = $1 }
        case "VIGIL_LOG_LEVEL":
            if value.lowercased() == "warning" { configuration.logLevel = .warn; return nil }
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
            guard let parsed = DurationText.parse(value), parsed >= .seconds(1) else { return "not a duration of at least 1s" }
            configuration.restartBackoffMax = parsed
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
        default:
            return nil
        }
    }

    private func choices<T: RawRepresentable>(_ type: T.Type) -> String where T.RawValue == String {
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

    private func canonical(_ name: String, _ text: String) -> String {
        let c = configuration
        switch name {
        case "VIGIL_LISTEN": return c.listen.map { ListenText.format($0) } ?? "off"
        case "VIGIL_SIGNAL_TARGET": return c.signalTarget.rawValue
        case "VIGIL_STOP_SIGNAL": return SignalNames.name(c.stopSignal)
        case "VIGIL_STOP_TIMEOUT": return DurationText.format(c.stopTimeout)
        case "VIGIL_LOG_FORMAT": return c.logFormat.rawValue
        case "VIGIL_LOG_LEVEL": return c.logLevel.rawValue
        case "VIGIL_MIN_READY": return DurationText.format(c.minReady)
        case "VIGIL_DRAIN_DELAY": return DurationText.format(c.drainDelay)
        case "VIGIL_DRAIN_PORTS": return c.drainPorts.map(String.init).joined(separator: ",")
        case "VIGIL_DRAIN_TIMEOUT": return DurationText.format(c.drainTimeout)
        case "VIGIL_RESTART": return c.restart.rawValue
        case "VIGIL_RESTART_BACKOFF_MAX": return DurationText.format(c.restartBackoffMax)
        case "VIGIL_RESTART_UNHEALTHY": return String(c.restartUnhealthy)
        case "VIGIL_DETAILS": return c.details.rawValue
        case "VIGIL_ADMIN": return c.admin.rawValue
        default: return text
        }
    }

    // MARK: - Checks

    private func checkKeys() -> [String] {
        environment.keys.filter { $0.hasPrefix(Settings.checkPrefix) && $0.count > Settings.checkPrefix.count }.sorted()
    }

    /// `VIGIL_CHEKC_DB` → `VIGIL_CHECK_DB`: a mistyped check prefix.
    private func checkPrefixSuggestion(_ key: String) -> String? {
        let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "VIGIL", !parts[2].isEmpty,
              EditDistance.between(String(parts[1]), "CHECK") <= 2 else { return nil }
        return Settings.checkPrefix + parts[2]
    }

    /// `VIGIL_CHECK_DB_TIMEOUT` → ("DB", "TIMEOUT") when it ends in a known option.
    private func splitOption(_ key: String) -> (check: String, option: Setting)? {
        let rest = key.dropFirst(Settings.checkPrefix.count)
        for option in Settings.checkOptions where rest.hasSuffix("_" + option.name) {
            let check = rest.dropLast(option.name.count + 1)
            if !check.isEmpty { return (String(check), option) }
        }
        return nil
    }

    private mutating func parseChecks() {
        let keys = checkKeys()
        // A name is a check when its variable holds a target, or when it has no option suffix.
        var checkNames: [String] = []
        var optionKeys: [(key: String, check: String, option: Setting)] = []
        for key in keys {
            let value = environment[key]!
            if let (check, option) = splitOption(key), environment[Settings.checkPrefix + check] != nil
                || !looksLikeTarget(value) {
                optionKeys.append((key, check, option))
            } else {
                checkNames.append(String(key.dropFirst(Settings.checkPrefix.count)))
            }
        }
        for name in checkNames {
            let key = Settings.checkPrefix + name
            let value = environment[key]!
            guard isValidCheckName(name) else {
                problems.append(ConfigurationProblem(
                    variable: key, value: nil, message: "a check name may hold only letters, digits and underscores",
                    example: "VIGIL_CHECK_DB=tcp://127.0.0.1:5432"))
                continue
            }
            // An unknown option of an existing check reads like a check of its own: say what it is.
            if !looksLikeTarget(value), let owner = checkNames.filter({ name.hasPrefix($0 + "_") }).max(by: { $0.count < $1.count }) {
                let option = String(name.dropFirst(owner.count + 1))
                let suggestion = EditDistance.closest(to: option, among: Settings.checkOptions.map(\.name))
                var message = "unknown option \(option) of check \(owner.lowercased())"
                var example: String? = nil
                if let suggestion, let setting = Settings.checkOptions.first(where: { $0.name == suggestion }) {
                    message += "; did you mean VIGIL_CHECK_\(owner)_\(suggestion)?"
                    example = "VIGIL_CHECK_\(owner)_\(suggestion)=\(setting.example)"
                }
                problems.append(ConfigurationProblem(variable: key, value: shown(value), message: message, example: example))
                continue
            }
            if HealthModel.implicitFactNames.contains(name.lowercased()) {
                problems.append(ConfigurationProblem(
                    variable: key, value: nil, message: "\(name.lowercased()) is the name of a built-in fact; choose another name",
                    example: "VIGIL_CHECK_APP=http://127.0.0.1:8080/health"))
                continue
            }
            switch CheckTargetParser.parse(value) {
            case .success(let target):
                configuration.checks.append(CheckSpec(name: name.lowercased(), target: target))
            case .failure(let error):
                problems.append(ConfigurationProblem(
                    variable: key, value: shown(value), message: error.message,
                    example: "\(key)=\(CheckTargetParser.example)"))
            }
        }
        for (key, check, option) in optionKeys {
            guard let index = configuration.checks.firstIndex(where: { $0.name == check.lowercased() }) else {
                if environment[Settings.checkPrefix + check] == nil {
                    problems.append(ConfigurationProblem(
                        variable: key, value: shown(environment[key]!),
                        message: "option \(option.name) of check \(check.lowercased()), but VIGIL_CHECK_\(check) is not set",
                        example: "VIGIL_CHECK_\(check)=\(CheckTargetParser.example)"))
                }
                continue  // the check itself is broken and already reported
            }
            if let message = applyOption(option.name, environment[key]!, to: &configuration.checks[index]) {
                problems.append(ConfigurationProblem(
                    variable: key, value: shown(environment[key]!), message: message,
                    example: "\(key)=\(option.example)"))
            }
        }
        configuration.checks.sort { $0.name < $1.name }
        for check in configuration.checks {
            appendEffective(check)
        }
    }

    private func isValidCheckName(_ name: String) -> Bool {
        name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    private func looksLikeTarget(_ value: String) -> Bool {
        value.hasPrefix("exec:") || TextSearch.contains(value, "://")
    }

    /// Check targets may carry secrets in query strings or commands; show them, they are vigil's own.
    private func shown(_ value: String) -> String { value }

    private func applyOption(_ option: String, _ text: String, to check: inout CheckSpec) -> String? {
        let value = text.trimmingASCIIWhitespace()
        let isHTTP: Bool
        if case .http = check.target { isHTTP = true } else { isHTTP = false }
        switch option {
        case "PROBES":
            var probes: Set<Probe> = []
            for part in value.split(separator: ",") {
                guard let probe = Probe(rawValue: String(part).trimmingASCIIWhitespace().lowercased()) else {
                    return "not a comma-separated list of startup, live, ready"
                }
                probes.insert(probe)
            }
            guard !probes.isEmpty else { return "not a comma-separated list of startup, live, ready" }
            check.probes = probes
        case "INTERVAL", "TIMEOUT", "DELAY", "MAX_AGE":
            guard let duration = DurationText.parse(value) else { return "not a duration (use 500ms, 5s, 1m30s or a number of seconds)" }
            if option != "DELAY" && duration <= .zero { return "must be more than 0s" }
            switch option {
            case "INTERVAL": check.interval = duration
            case "TIMEOUT": check.timeout = duration
            case "DELAY": check.delay = duration
            default:
                guard case .file = check.target else { return "MAX_AGE applies to file:// checks only" }
                check.maxAge = duration
            }
        case "FAILURES", "SUCCESSES":
            guard let count = Int(value), (1...1000).contains(count) else { return "not a whole number from 1 to 1000" }
            if option == "FAILURES" { check.failures = count } else { check.successes = count }
        case "EXPECT_STATUS":
            guard isHTTP else { return "EXPECT_STATUS applies to http:// and https:// checks only" }
            guard let set = StatusSet.parse(value) else { return "not a list of statuses or ranges between 100 and 599" }
            check.expectStatus = set
        case "EXPECT_BODY":
            guard isHTTP else { return "EXPECT_BODY applies to http:// and https:// checks only" }
            guard !text.isEmpty else { return "must not be empty" }
            check.expectBody = text
        default:
            return nil
        }
        return nil
    }

    private mutating func appendEffective(_ check: CheckSpec) {
        let prefix = Settings.checkPrefix + check.name.uppercased()
        func source(_ key: String) -> SettingSource { environment[key] == nil ? .default : .environment }
        let isHTTP: Bool
        if case .http = check.target { isHTTP = true } else { isHTTP = false }
        effective.append(EffectiveSetting(name: prefix, value: environment[prefix]!, source: .environment))
        var options: [(String, String)] = [
            ("PROBES", Probe.allCases.filter(check.probes.contains).map(\.rawValue).joined(separator: ",")),
            ("INTERVAL", DurationText.format(check.interval)),
            ("TIMEOUT", DurationText.format(check.timeout)),
            ("FAILURES", String(check.failures)),
            ("SUCCESSES", String(check.successes)),
            ("DELAY", DurationText.format(check.delay)),
        ]
        if isHTTP {
            options.append(("EXPECT_STATUS", check.expectStatus.description))
            if let body = check.expectBody { options.append(("EXPECT_BODY", body)) }
        }
        if let maxAge = check.maxAge { options.append(("MAX_AGE", DurationText.format(maxAge))) }
        for (option, value) in options {
            let key = prefix + "_" + option
            effective.append(EffectiveSetting(name: key, value: value, source: source(key)))
        }
    }

    // MARK: - Unknown names and cross-checks

    private mutating func reportUnknownNames() {
        let known = Set(Settings.global.map(\.name))
        if environment[Settings.checkPrefix] != nil {
            problems.append(ConfigurationProblem(
                variable: Settings.checkPrefix, value: nil, message: "a check needs a name after VIGIL_CHECK_",
                example: "VIGIL_CHECK_DB=tcp://127.0.0.1:5432"))
        }
        for key in environment.keys.sorted() where !known.contains(key) && !key.hasPrefix(Settings.checkPrefix) {
            if let suggestion = checkPrefixSuggestion(key) {
                problems.append(ConfigurationProblem(
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

    private mutating func crossValidate() {
        // Without a probe server nothing can see readiness fail, so there is nothing to wait for
        // unless the user asks (a load balancer checking the app's own port, say).
        if configuration.listen == nil && environment["VIGIL_DRAIN_DELAY"] == nil {
            configuration.drainDelay = .zero
            if let index = effective.firstIndex(where: { $0.name == "VIGIL_DRAIN_DELAY" }) { effective[index].value = "0s" }
        }
        if configuration.admin == .token && configuration.adminToken == nil {
            problems.append(ConfigurationProblem(
                variable: "VIGIL_ADMIN_TOKEN", value: nil, message: "must be set when VIGIL_ADMIN=token",
                example: "VIGIL_ADMIN_TOKEN=s3cret-token"))
        }
        for index in configuration.checks.indices {
            // The default timeout follows a shorter interval; only an explicit one is an error.
            let key = Settings.checkPrefix + configuration.checks[index].name.uppercased() + "_TIMEOUT"
            if environment[key] == nil {
                configuration.checks[index].timeout = min(configuration.checks[index].timeout, configuration.checks[index].interval)
                if let entry = effective.firstIndex(where: { $0.name == key }) {
                    effective[entry].value = DurationText.format(configuration.checks[index].timeout)
                }
            }
        }
        for check in configuration.checks where check.timeout > check.interval {
            let key = Settings.checkPrefix + check.name.uppercased() + "_TIMEOUT"
            problems.append(ConfigurationProblem(
                variable: key, value: DurationText.format(check.timeout),
                message: "longer than the check's interval (\(DurationText.format(check.interval)))",
                example: "\(key)=\(DurationText.format(check.interval))"))
        }
    }

    private func warnings() -> [String] {
        var warnings: [String] = []
        let worst = configuration.worstCaseStopDuration
        if worst > Configuration.kubernetesDefaultGracePeriod {
            let drainName = configuration.drainPorts.isEmpty ? "VIGIL_DRAIN_DELAY" : "VIGIL_DRAIN_TIMEOUT"
            warnings.append(
                "\(drainName) + VIGIL_STOP_TIMEOUT = \(DurationText.format(worst)), more than Kubernetes' default grace period of 30s: "
                + "raise the pod's terminationGracePeriodSeconds to at least \(Int(worst.secondsValue.rounded(.up)) + 5), or lower them")
        }
        return warnings
    }
}

enum BooleanText {
    static func parse(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }
}

public enum ListenText {
    public static func format(_ address: HostPort) -> String {
        address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
    }
}

public enum IPAddressText {
    /// Whether `host` is a dotted IPv4 address or an IPv6 address (checked loosely: hex and colons).
    public static func isNumeric(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
