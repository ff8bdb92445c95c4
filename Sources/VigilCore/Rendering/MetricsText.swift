/// Prometheus text exposition format 0.0.4, written directly: the metric set is fixed and derived
/// from the health model, so a registry would only add a second copy of the state.
public enum MetricsText {
    public static func render(_ snapshot: AgentSnapshot) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
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
