/// kube-apiserver's health body format: `ok`, or `[+]name ok` / `[-]name failed: reason` lines
/// followed by `readyz check passed|failed`.
public enum HealthText {
    public static let withheld = "reason withheld"

    public static func passes(_ verdict: ProbeVerdict, excluded: [String]) -> Bool {
        verdict.items.allSatisfy { $0.passed || excluded.contains($0.name) }
    }

    public static func line(for item: ProbeItem, showReasons: Bool) -> String {
        item.passed
            ? "[+]\(item.name) ok\n" : "[-]\(item.name) failed: \(showReasons ? item.reason ?? "failed" : withheld)\n"
    }

    public static func render(
        _ verdict: ProbeVerdict, excluded: [String], verbose: Bool, showReasons: Bool
    ) -> (passed: Bool, body: String) {
        let passed = passes(verdict, excluded: excluded)
        if passed && !verbose { return (true, "ok") }
        var body = ""
        for item in verdict.items {
            if excluded.contains(item.name) {
                body += "[+]\(item.name) excluded: ok\n"
            } else {
                body += line(for: item, showReasons: showReasons)
            }
        }
        let unknown = excluded.filter { name in !verdict.items.contains { $0.name == name } }
        if !unknown.isEmpty {
            var seen: [String] = []
            for name in unknown where !seen.contains(name) { seen.append(name) }
            body +=
                "warn: some health checks cannot be excluded: no matches for "
                + "\(seen.map { "\"\($0)\"" }.joined(separator: ","))\n"
        }
        body += "\(verdict.probe.endpointName) check \(passed ? "passed" : "failed")\n"
        return (passed, body)
    }
}
