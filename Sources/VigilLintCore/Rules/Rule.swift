/// A rule: a stable ID (used by `--ignore`, the `vigil-lint/ignore` annotation, SARIF and JUnit),
/// its severity, why it matters and how to fix it in general (findings carry a specific fix).
public struct Rule: Sendable, Equatable {
    public let id: String
    public let severity: Severity
    public let summary: String
    public let why: String
    public let fix: String
    public let tags: [String]

    init(_ id: String, _ severity: Severity, _ summary: String, why: String, fix: String, tags: [String]) {
        self.id = id
        self.severity = severity
        self.summary = summary
        self.why = why
        self.fix = fix
        self.tags = tags
    }

    public static func named(_ id: String) -> Rule? { all.first { $0.id == id } }

    public static let all: [Rule] =
        configuration + entrypoint + probes + termination + rollout + cluster + argo + dockerfile + meta
}
