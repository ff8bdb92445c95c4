/// The JSON form of a probe's verdict and of every check (schema in docs/endpoints.md).
public enum HealthJSON {
    public static func render(
        _ snapshot: AgentSnapshot, probe: Probe, excluded: [String], showReasons: Bool
    ) -> JSONValue {
        let health = snapshot.health
        let moment = snapshot.moment
        let verdict = health.evaluate(probe, at: moment)
        func reason(_ text: String?) -> JSONValue {
            guard let text else { return .null }
            return .string(showReasons ? text : HealthText.withheld)
        }
        let items: [JSONValue] = verdict.items.map { item in
            let isExcluded = excluded.contains(item.name)
            return .object([
                ("name", .string(item.name)),
                ("status", .string(isExcluded ? "excluded" : item.passed ? "pass" : "fail")),
                ("reason", isExcluded ? .null : reason(item.reason)),
            ])
        }
        let checks: [JSONValue] = health.checks.map { check in
            .object([
                ("name", .string(check.spec.name)),
                ("kind", .string(check.spec.target.kind)),
                ("status", .string(check.status.rawValue)),
                ("probes", .array(Probe.allCases.filter(check.spec.probes.contains).map { .string($0.rawValue) })),
                ("consecutive_successes", .int(Int64(check.consecutiveSuccesses))),
                ("consecutive_failures", .int(Int64(check.consecutiveFailures))),
                ("runs", .int(Int64(check.runs))),
                ("failed_runs", .int(Int64(check.failedRuns))),
                (
                    "last_reason",
                    check.status == .passing
                        ? reason(check.lastMessage) : reason(check.lastFailure ?? check.lastMessage)
                ),
                (
                    "last_duration_ms",
                    check.lastDuration.map {
                        .double(
                            Double($0.milliseconds * 1000 + Int64($0.components.attoseconds / 1_000_000_000_000 % 1000))
                                / 1000)
                    } ?? .null
                ),
                (
                    "last_transition",
                    .string(Timestamps.rfc3339(millisecondsSinceEpoch: check.lastTransition.wallMilliseconds))
                ),
            ])
        }
        let probes: [(String, JSONValue)] = Probe.allCases.map {
            ($0.rawValue, .string(health.evaluate($0, at: moment).passed ? "pass" : "fail"))
        }
        return .object([
            ("probe", .string(probe.rawValue)),
            ("status", .string(HealthText.passes(verdict, excluded: excluded) ? "pass" : "fail")),
            ("items", .array(items)),
            ("probes", .object(probes)),
            ("draining", health.draining.map { .string($0.rawValue) } ?? .bool(false)),
            (
                "notify",
                health.notify.map { .object([("state", .string($0.phase.rawValue)), ("status", reason($0.status))]) }
                    ?? .null
            ),
            (
                "app",
                .object([
                    ("running", .bool(health.processRunning)),
                    ("pid", snapshot.appPid.map { .int(Int64($0)) } ?? .null),
                    ("restarts", .int(Int64(snapshot.restarts))),
                    ("last_exit_code", snapshot.identity.lastExitCode.map { .int(Int64($0)) } ?? .null),
                ])
            ),
            (
                "version",
                .object([
                    ("vigil", .string(snapshot.identity.vigilVersion)),
                    ("app", snapshot.identity.appVersion.map { .string($0) } ?? .null),
                ])
            ),
            ("checks", .array(checks)),
            ("time", .string(Timestamps.rfc3339(millisecondsSinceEpoch: moment.wallMilliseconds))),
        ])
    }
}
