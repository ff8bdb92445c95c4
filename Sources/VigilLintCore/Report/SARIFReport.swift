import VigilCore

/// `--format sarif`: SARIF 2.1.0 as GitHub code scanning reads it (one run, the rules in
/// tool.driver.rules, results with ruleId/ruleIndex, level, message and a physical location
/// relative to the repository root, partialFingerprints that survive line moves).
public enum SARIFReport {
    public static let schema = "https://json.schemastore.org/sarif-2.1.0.json"

    public static func render(_ report: Report, version: String) -> String {
        let rules = Rule.all
        let driver: JSONValue = .object([
            ("name", .string("vigil-lint")), ("semanticVersion", .string(version)),
            ("rules", .array(rules.map(rule))),
        ])
        var invocation: [(String, JSONValue)] = [("executionSuccessful", .bool(report.problems.isEmpty))]
        if !report.problems.isEmpty {
            invocation.append(("toolExecutionNotifications", .array(report.problems.map(notification))))
        }
        let run: JSONValue = .object([
            ("tool", .object([("driver", driver)])),
            ("invocations", .array([.object(invocation)])),
            ("columnKind", .string("unicodeCodePoints")),
            (
                "results",
                .array(
                    report.findings.map { finding in
                        result(finding, ruleIndex: rules.firstIndex { $0.id == finding.rule })
                    })
            ),
        ])
        let document: JSONValue = .object([
            ("$schema", .string(schema)), ("version", .string("2.1.0")), ("runs", .array([run])),
        ])
        return document.rendered + "\n"
    }

    static func level(_ severity: Severity) -> String {
        switch severity {
        case .error: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    static func rule(_ rule: Rule) -> JSONValue {
        .object([
            ("id", .string(rule.id)), ("name", .string(pascalCase(rule.id))),
            ("shortDescription", .object([("text", .string(rule.summary))])),
            ("fullDescription", .object([("text", .string(rule.why))])),
            ("help", .object([("text", .string("\(rule.why) Fix: \(rule.fix)."))])),
            ("defaultConfiguration", .object([("level", .string(level(rule.severity)))])),
            ("properties", .object([("tags", .array(rule.tags.map { .string($0) }))])),
        ])
    }

    static func result(_ finding: Finding, ruleIndex: Int?) -> JSONValue {
        var members: [(String, JSONValue)] = [("ruleId", .string(finding.rule))]
        if let ruleIndex { members.append(("ruleIndex", .int(Int64(ruleIndex)))) }
        members += [
            ("level", .string(level(finding.severity))),
            ("message", .object([("text", .string("\(finding.subject): \(finding.message); fix: \(finding.fix)"))])),
            ("locations", .array([location(finding.file, finding.mark)])),
            ("partialFingerprints", .object([("vigilLint/v1", .string(fingerprint(finding)))])),
            (
                "properties",
                .object([
                    ("kind", .string(finding.kind)), ("namespace", finding.namespace.map { .string($0) } ?? .null),
                    ("name", .string(finding.name)), ("container", finding.container.map { .string($0) } ?? .null),
                    ("field", .string(finding.field)), ("fix", .string(finding.fix)),
                ])
            ),
        ]
        return .object(members)
    }

    static func location(_ file: String, _ mark: SourceMark) -> JSONValue {
        .object([
            (
                "physicalLocation",
                .object([
                    ("artifactLocation", .object([("uri", .string(uri(file))), ("uriBaseId", .string("%SRCROOT%"))])),
                    (
                        "region",
                        .object([("startLine", .int(Int64(mark.line))), ("startColumn", .int(Int64(mark.column)))])
                    ),
                ])
            )
        ])
    }

    static func notification(_ problem: Report.InputProblem) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("level", .string("error")), ("message", .object([("text", .string(problem.description))])),
        ]
        if let mark = problem.mark { members.append(("locations", .array([location(problem.file, mark)]))) }
        return .object(members)
    }

    /// A relative URI reference: the path with `./` dropped and everything outside RFC 3986's
    /// unreserved characters and `/` percent-encoded.
    static func uri(_ path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        if path == "-" { return "stdin" }
        var out = ""
        for byte in path.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if (c.isASCII && (c.isLetter || c.isNumber)) || "-._~/".contains(c) {
                out.append(c)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" : "") + hex
            }
        }
        return out
    }

    static func pascalCase(_ id: String) -> String {
        id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// FNV-1a (64 bit) over what identifies a finding apart from its line: rule, file, object,
    /// container and field.
    static func fingerprint(_ finding: Finding) -> String {
        let key = [
            finding.rule, finding.file, finding.kind, finding.namespace ?? "", finding.name, finding.container ?? "",
            finding.field,
        ].joined(separator: "\u{1F}")
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
