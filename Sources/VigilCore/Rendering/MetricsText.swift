/// Prometheus text exposition format 0.0.4, or OpenMetrics 1.0 text (`openMetrics`: counter
/// families named without `_total`, `# EOF` at the end), written directly: the metric set is fixed
/// and derived from the health model, so a registry would only add a second copy of the state.
public enum MetricsText {
    public static func render(_ snapshot: AgentSnapshot, openMetrics: Bool = false) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            let familyName =
                openMetrics && type == "counter" && name.hasSuffix("_total") ? String(name.dropLast(6)) : name
            out += "# HELP \(familyName) \(help)\n# TYPE \(familyName) \(type)\n"
            for sample in samples {
                out +=
                    sample.labels.isEmpty ? "\(name) \(sample.value)\n" : "\(name){\(sample.labels)} \(sample.value)\n"
            }
        }
        let health = snapshot.health
        let checks = health.checks
        func label(_ check: CheckState) -> String { "check=\"\(escape(check.spec.name))\"" }
        func bool(_ value: Bool) -> String { value ? "1" : "0" }

        family(
            "vigil_check_up", "gauge", "Whether the check is passing (1) or not (0).",
            checks.map { (label($0), bool($0.status == .passing)) })
        family(
            "vigil_check_runs_total", "counter", "Runs of the check.",
            checks.map { (label($0), String($0.runs)) })
        family(
            "vigil_check_failures_total", "counter", "Failed runs of the check.",
            checks.map { (label($0), String($0.failedRuns)) })
        family(
            "vigil_check_duration_seconds", "gauge", "Duration of the check's last run.",
            checks.map { (label($0), seconds($0.lastDuration ?? .zero)) })
        for probe in Probe.allCases {
            let name = probe == .startup ? "vigil_startup" : "vigil_\(probe.rawValue)"
            family(
                name, "gauge", "Whether the \(probe.rawValue) probe passes (1) or not (0).",
                [("", bool(health.evaluate(probe, at: snapshot.moment).passed))])
        }
        family(
            "vigil_draining", "gauge", "Whether vigil is draining the instance (1) or not (0).",
            [("", bool(health.draining != nil))])
        family(
            "vigil_app_up", "gauge", "Whether the app process is running (1) or not (0).",
            [("", bool(health.processRunning))])
        family(
            "vigil_app_restarts_total", "counter", "Times vigil restarted the app in place.",
            [("", String(snapshot.restarts))])
        let identity = snapshot.identity
        family(
            "vigil_app_last_exit_code", "gauge",
            "Exit code of the app's last run (128+N: killed by signal N); absent while it never ended.",
            identity.lastExitCode.map { [("", String($0))] } ?? [])
        family(
            "vigil_build_info", "gauge", "vigil's version and the app's (VIGIL_VERSION); always 1.",
            [
                (
                    "vigil_version=\"\(escape(identity.vigilVersion))\","
                        + "app_version=\"\(escape(identity.appVersion ?? ""))\"",
                    "1"
                )
            ])
        family(
            "process_start_time_seconds", "gauge", "Start time of the vigil process since the epoch, in seconds.",
            [("", seconds(.milliseconds(identity.startedAtWallMilliseconds)))])
        if openMetrics { out += "# EOF\n" }
        return out
    }

    static func seconds(_ duration: Duration) -> String {
        let (whole, attoseconds) = duration.components
        return String(Double(whole) + Double(attoseconds) / 1e18)
    }

    static func escape(_ value: String) -> String {
        var result = ""
        for character in value {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.append(character)
            }
        }
        return result
    }
}
