/// Left-aligned columns separated by two spaces, for `vigil status` and `vigil config`.
public enum TextTable {
    public static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var out = ""
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 { line += String(repeating: " ", count: widths[index] - cell.count + 2) }
            }
            out += line + "\n"
        }
        return out
    }
}

public enum StatusTable {
    public static func render(_ snapshot: AgentSnapshot, showReasons: Bool) -> String {
        let health = snapshot.health
        let now = snapshot.moment
        var rows: [[String]] = [["NAME", "PROBES", "STATUS", "SINCE", "REASON"]]
        rows.append([
            "process", "live,ready", health.processRunning ? "passing" : "failing", "-",
            health.processRunning ? (snapshot.appPid.map { "pid \($0)" } ?? "") : "app is not running",
        ])
        for check in health.checks {
            let age = Duration.milliseconds(
                max(0, now.monotonicMilliseconds - check.lastTransition.monotonicMilliseconds))
            let reason: String
            if !showReasons {
                reason = HealthText.withheld
            } else if check.status == .passing {
                reason = check.lastMessage ?? ""
            } else {
                reason = check.failureReason
            }
            rows.append([
                check.spec.name,
                Probe.allCases.filter(check.spec.probes.contains).map(\.rawValue).joined(separator: ","),
                check.status.rawValue,
                DurationText.format(.seconds(age.milliseconds / 1000)) + " ago",
                reason,
            ])
        }
        var out = TextTable.render(rows)
        func word(_ probe: Probe) -> String { health.evaluate(probe, at: now).passed ? "pass" : "fail" }
        out += "\nlive: \(word(.live))  ready: \(word(.ready))  startup: \(word(.startup))"
        out += "  draining: \(health.draining?.rawValue ?? "no")  restarts: \(snapshot.restarts)"
        if let version = snapshot.identity.appVersion { out += "  version: \(version)" }
        out += "\n"
        if let notify = health.notify {
            let status = notify.status.map { showReasons ? $0 : HealthText.withheld } ?? "-"
            out += "notify: \(notify.phase.rawValue)  status: \(status)\n"
        }
        return out
    }
}

public enum ConfigTable {
    public static func render(_ effective: [EffectiveSetting]) -> String {
        TextTable.render(effective.map { ["\($0.name)=\($0.value)", $0.source.rawValue] })
    }
}
