/// The `VIGIL_CHECK_<NAME>[_<OPTION>]` half of the parser.
extension ConfigurationParser {
    func checkKeys() -> [String] {
        environment.keys.filter { $0.hasPrefix(Settings.checkPrefix) && $0.count > Settings.checkPrefix.count }.sorted()
    }

    /// `VIGIL_CHEKC_DB` → `VIGIL_CHECK_DB`: a mistyped check prefix.
    func checkPrefixSuggestion(_ key: String) -> String? {
        let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "VIGIL", !parts[2].isEmpty,
            EditDistance.between(String(parts[1]), "CHECK") <= 2
        else { return nil }
        return Settings.checkPrefix + parts[2]
    }

    /// `VIGIL_CHECK_DB_TIMEOUT` → ("DB", "TIMEOUT") when it ends in a known option. Of several
    /// (`_START_INTERVAL` also ends in `_INTERVAL`), one whose check is set wins, then the longest option.
    func splitOption(_ key: String) -> (check: String, option: Setting)? {
        let rest = key.dropFirst(Settings.checkPrefix.count)
        var splits: [(check: String, option: Setting)] = []
        for option in Settings.checkOptions where rest.hasSuffix("_" + option.name) {
            let check = rest.dropLast(option.name.count + 1)
            if !check.isEmpty { splits.append((String(check), option)) }
        }
        return splits.first { environment[Settings.checkPrefix + $0.check] != nil }
            ?? splits.max { $0.option.name.count < $1.option.name.count }
    }

    mutating func parseChecks() {
        let keys = checkKeys()
        // A name is a check when its variable holds a target, or when it has no option suffix.
        var checkNames: [String] = []
        var optionKeys: [(key: String, check: String, option: Setting)] = []
        for key in keys {
            let value = environment[key]!
            if let (check, option) = splitOption(key),
                environment[Settings.checkPrefix + check] != nil
                    || !looksLikeTarget(value)
            {
                optionKeys.append((key, check, option))
            } else {
                checkNames.append(String(key.dropFirst(Settings.checkPrefix.count)))
            }
        }
        for name in checkNames {
            let key = Settings.checkPrefix + name
            let value = environment[key]!
            guard isValidCheckName(name) else {
                problems.append(
                    ConfigurationProblem(
                        variable: key, value: nil,
                        message: "a check name may hold only letters, digits and underscores",
                        example: "VIGIL_CHECK_DB=tcp://127.0.0.1:5432"))
                continue
            }
            // An unknown option of an existing check reads like a check of its own: say what it is.
            if !looksLikeTarget(value),
                let owner = checkNames.filter({ name.hasPrefix($0 + "_") }).max(by: { $0.count < $1.count })
            {
                let option = String(name.dropFirst(owner.count + 1))
                let suggestion = EditDistance.closest(to: option, among: Settings.checkOptions.map(\.name))
                var message = "unknown option \(option) of check \(owner.lowercased())"
                var example: String? = nil
                if let suggestion, let setting = Settings.checkOptions.first(where: { $0.name == suggestion }) {
                    message += "; did you mean VIGIL_CHECK_\(owner)_\(suggestion)?"
                    example = "VIGIL_CHECK_\(owner)_\(suggestion)=\(setting.example)"
                }
                problems.append(
                    ConfigurationProblem(variable: key, value: shown(value), message: message, example: example))
                continue
            }
            if HealthModel.implicitFactNames.contains(name.lowercased()) {
                problems.append(
                    ConfigurationProblem(
                        variable: key, value: nil,
                        message: "\(name.lowercased()) is the name of a built-in fact; choose another name",
                        example: "VIGIL_CHECK_APP=http://127.0.0.1:8080/health"))
                continue
            }
            switch CheckTargetParser.parse(value) {
            case .success(let target):
                configuration.checks.append(CheckSpec(name: name.lowercased(), target: target))
            case .failure(let error):
                problems.append(
                    ConfigurationProblem(
                        variable: key, value: shown(value), message: error.message,
                        example: "\(key)=\(CheckTargetParser.example)"))
            }
        }
        for (key, check, option) in optionKeys {
            guard let index = configuration.checks.firstIndex(where: { $0.name == check.lowercased() }) else {
                if environment[Settings.checkPrefix + check] == nil {
                    problems.append(
                        ConfigurationProblem(
                            variable: key, value: shown(environment[key]!),
                            message:
                                "option \(option.name) of check \(check.lowercased()), "
                                + "but VIGIL_CHECK_\(check) is not set",
                            example: "VIGIL_CHECK_\(check)=\(CheckTargetParser.example)"))
                }
                continue  // the check itself is broken and already reported
            }
            if let message = applyOption(option.name, environment[key]!, to: &configuration.checks[index]) {
                problems.append(
                    ConfigurationProblem(
                        variable: key, value: shown(environment[key]!), message: message,
                        example: "\(key)=\(option.example)"))
            }
        }
        configuration.checks.sort { $0.name < $1.name }
        for check in configuration.checks {
            appendEffective(check)
        }
    }

    func isValidCheckName(_ name: String) -> Bool {
        name.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    func looksLikeTarget(_ value: String) -> Bool {
        value.hasPrefix("exec:") || TextSearch.contains(value, "://")
    }

    /// Check targets may carry secrets in query strings or commands; show them, they are vigil's own.
    func shown(_ value: String) -> String { value }

    func applyOption(_ option: String, _ text: String, to check: inout CheckSpec) -> String? {
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
        case "INTERVAL", "START_INTERVAL", "TIMEOUT", "DELAY", "MAX_AGE":
            guard let duration = DurationText.parse(value) else {
                return DurationText.problem(value)
            }
            if option != "DELAY" && duration <= .zero { return "must be more than 0s" }
            switch option {
            case "INTERVAL": check.interval = duration
            case "START_INTERVAL": check.startInterval = duration
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
            guard let set = StatusSet.parse(value) else {
                return "not a list of statuses or ranges between 100 and 599"
            }
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

    mutating func appendEffective(_ check: CheckSpec) {
        let prefix = Settings.checkPrefix + check.name.uppercased()
        func source(_ key: String) -> SettingSource { environment[key] == nil ? .default : .environment }
        let isHTTP: Bool
        if case .http = check.target { isHTTP = true } else { isHTTP = false }
        effective.append(EffectiveSetting(name: prefix, value: environment[prefix]!, source: .environment))
        var options: [(String, String)] = [
            ("PROBES", Probe.allCases.filter(check.probes.contains).map(\.rawValue).joined(separator: ",")),
            ("INTERVAL", DurationText.format(check.interval)),
        ]
        if let startInterval = check.startInterval {
            options.append(("START_INTERVAL", DurationText.format(startInterval)))
        }
        options += [
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
}
