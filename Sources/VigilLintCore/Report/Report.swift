/// What one run produced, for the renderers: the objects it read, the findings, and the inputs
/// that could not be read (invalid YAML, binary files, missing files).
public struct Report: Sendable {
    public struct Subject: Sendable, Equatable {
        public var file: String
        public var kind: String
        public var namespace: String?
        public var name: String

        public init(file: String, kind: String, namespace: String?, name: String) {
            self.file = file
            self.kind = kind
            self.namespace = namespace
            self.name = name
        }

        public var title: String {
            let qualified = namespace.map { "\($0)/\(name)" } ?? name
            return qualified.isEmpty ? kind : "\(kind) \(qualified)"
        }
    }

    public struct InputProblem: Error, Sendable, Equatable {
        public var file: String
        public var mark: SourceMark?
        public var message: String

        public init(file: String, mark: SourceMark?, message: String) {
            self.file = file
            self.mark = mark
            self.message = message
        }

        /// `FILE:LINE:COL: message`, as compilers print it.
        public var description: String {
            let place = mark.map { "\(file):\($0.line):\($0.column)" } ?? file
            return "\(place): \(message)"
        }
    }

    public var subjects: [Subject]
    public var findings: [Finding]
    public var problems: [InputProblem]
    public var failOn: Severity

    public init(subjects: [Subject], findings: [Finding], problems: [InputProblem] = [], failOn: Severity = .warning) {
        self.subjects = subjects
        self.findings = findings
        self.problems = problems
        self.failOn = failOn
    }

    /// 0: nothing at or above `failOn`; 1: something is; 2: an input could not be read.
    public var exitCode: Int32 {
        if !problems.isEmpty { return 2 }
        return findings.contains { $0.severity >= failOn } ? 1 : 0
    }

    public func count(_ severity: Severity) -> Int { findings.filter { $0.severity == severity }.count }

    /// The objects of an object set and the Dockerfiles, in input order.
    public static func subjects(of objects: ObjectSet, dockerfiles: [String]) -> [Subject] {
        var metas = objects.workloads.map(\.meta) + objects.services.map(\.meta)
        metas += objects.budgets.map(\.meta) + objects.autoscalers.map(\.meta)
        var subjects = metas.map { Subject(file: $0.file, kind: $0.kind, namespace: $0.namespace, name: $0.name) }
        subjects += dockerfiles.map { Subject(file: $0, kind: "Dockerfile", namespace: nil, name: "") }
        return subjects
    }
}

/// `vigil-lint`'s text output: one line per finding, as compilers print diagnostics, then a summary.
public enum TextReport {
    public static func line(_ finding: Finding) -> String {
        "\(finding.file):\(finding.mark.line):\(finding.mark.column): \(finding.severity.rawValue) \(finding.rule) "
            + "\(finding.subject): \(finding.message); fix: \(finding.fix)"
    }

    public static func render(_ report: Report) -> String {
        var out = ""
        for finding in report.findings { out += line(finding) + "\n" }
        out += summary(report) + "\n"
        return out
    }

    public static func summary(_ report: Report) -> String {
        var text = "vigil-lint: \(plural(report.subjects.count, "object")), "
        if report.findings.isEmpty {
            text += "no findings"
        } else {
            let counts = [
                plural(report.count(.error), "error"), plural(report.count(.warning), "warning"),
                "\(report.count(.info)) info",
            ]
            text += plural(report.findings.count, "finding") + " (" + counts.joined(separator: ", ") + ")"
        }
        if !report.problems.isEmpty {
            text += "; \(plural(report.problems.count, "input")) could not be read"
        }
        return text
    }

    static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
}
