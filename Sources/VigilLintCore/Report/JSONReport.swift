import VigilCore

/// `--format json`: one document, `{"version": 1, "objects": N, "findings": [...]}`.
public enum JSONReport {
    public static func render(_ report: Report) -> String {
        var members: [(String, JSONValue)] = [
            ("version", .int(1)), ("objects", .int(Int64(report.subjects.count))),
            ("findings", .array(report.findings.map(finding))),
        ]
        if !report.problems.isEmpty {
            members.append(
                (
                    "errors",
                    .array(
                        report.problems.map { problem in
                            .object([
                                ("file", .string(problem.file)),
                                ("line", problem.mark.map { .int(Int64($0.line)) } ?? .null),
                                ("column", problem.mark.map { .int(Int64($0.column)) } ?? .null),
                                ("message", .string(problem.message)),
                            ])
                        })
                ))
        }
        return JSONValue.object(members).rendered + "\n"
    }

    static func finding(_ finding: Finding) -> JSONValue {
        .object([
            ("rule", .string(finding.rule)), ("severity", .string(finding.severity.rawValue)),
            ("file", .string(finding.file)), ("line", .int(Int64(finding.mark.line))),
            ("column", .int(Int64(finding.mark.column))), ("kind", .string(finding.kind)),
            ("namespace", finding.namespace.map { .string($0) } ?? .null), ("name", .string(finding.name)),
            ("container", finding.container.map { .string($0) } ?? .null), ("field", .string(finding.field)),
            ("message", .string(finding.message)), ("fix", .string(finding.fix)),
        ])
    }
}
