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
        if let door = snapshot.door { out += renderDoor(door, openMetrics: openMetrics) }
        if openMetrics { out += "# EOF\n" }
        return out
    }

    /// The front door's traffic (`VIGIL_PROXY_*`).
    static func renderDoor(_ door: DoorTraffic, openMetrics: Bool) -> String {
        let requests = openMetrics ? "vigil_proxy_responses" : "vigil_proxy_responses_total"
        var out = "# HELP \(requests) Responses the front door sent, by status class.\n# TYPE \(requests) counter\n"
        for (index, count) in door.responses.enumerated() {
            out += "vigil_proxy_responses_total{code=\"\(index + 1)xx\"} \(count)\n"
        }
        func gauge(_ name: String, _ help: String, _ value: Int) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        gauge("vigil_proxy_requests_in_flight", "Requests forwarded to the app and not yet answered.", door.inFlight)
        gauge("vigil_proxy_requests_waiting", "Requests waiting for the app to come back.", door.waiting)
        gauge("vigil_proxy_connections", "Open client connections.", door.connections)
        gauge("vigil_proxy_tunnels", "Open tunnels (tcp mode, WebSocket).", door.tunnels)
        out += "# HELP vigil_proxy_drain_phase The front door's drain phase (1 for the current one).\n"
        out += "# TYPE vigil_proxy_drain_phase gauge\n"
        for phase in DoorTraffic.Phase.allCases {
            out += "vigil_proxy_drain_phase{phase=\"\(phase.rawValue)\"} \(phase == door.phase ? 1 : 0)\n"
        }
        let latency = "vigil_proxy_request_duration_seconds"
        out += "# HELP \(latency) Time from a request's head to its response's end.\n# TYPE \(latency) histogram\n"
        for (index, bound) in DoorTraffic.bucketBounds.enumerated() {
            out += "\(latency)_bucket{le=\"\(bound)\"} \(door.latencyBuckets[index])\n"
        }
        let total = door.latencyBuckets[DoorTraffic.bucketBounds.count]
        out += "\(latency)_bucket{le=\"+Inf\"} \(total)\n"
        out += "\(latency)_sum \(seconds(.milliseconds(door.latencySumMilliseconds)))\n\(latency)_count \(total)\n"
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
