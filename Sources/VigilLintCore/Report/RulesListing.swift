import VigilCore

/// `vigil-lint rules`: every rule with its ID, severity and why, as text, JSON or a Markdown table.
public enum RulesListing {
    public static func text() -> String {
        Rule.all.map { rule in
            "\(rule.id) (\(rule.severity.rawValue)): \(rule.summary)\n    why: \(rule.why)\n    fix: \(rule.fix)\n"
        }.joined(separator: "\n")
    }

    public static func json() -> String {
        let rules = Rule.all.map { rule -> JSONValue in
            .object([
                ("id", .string(rule.id)), ("severity", .string(rule.severity.rawValue)),
                ("summary", .string(rule.summary)), ("why", .string(rule.why)), ("fix", .string(rule.fix)),
                ("tags", .array(rule.tags.map { .string($0) })),
            ])
        }
        return JSONValue.object([("version", .int(1)), ("rules", .array(rules))]).rendered + "\n"
    }

    public static func markdown() -> String {
        var out = "| ID | severity | why | fix |\n|---|---|---|---|\n"
        for rule in Rule.all {
            out += "| `\(rule.id)` | \(rule.severity.rawValue) | \(cell(rule.why)) | \(cell(rule.fix)) |\n"
        }
        return out
    }

    static func cell(_ text: String) -> String {
        var out = ""
        for c in text { out += c == "|" ? "\\|" : String(c) }
        return out
    }
}
