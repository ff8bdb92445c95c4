public enum Severity: String, Sendable, CaseIterable, Comparable {
    case info, warning, error

    public static func < (a: Severity, b: Severity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One thing a rule found, located in an input file.
public struct Finding: Sendable, Equatable {
    public var rule: String
    public var severity: Severity
    public var file: String
    public var mark: SourceMark
    public var kind: String
    public var namespace: String?
    public var name: String
    public var container: String?
    public var field: String
    public var message: String
    public var fix: String

    public init(
        rule: Rule, file: String, mark: SourceMark, kind: String, namespace: String?, name: String,
        container: String?, field: String, message: String, fix: String
    ) {
        self.rule = rule.id
        self.severity = rule.severity
        self.file = file
        self.mark = mark
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.container = container
        self.field = field
        self.message = message
        self.fix = fix
    }

    /// `Deployment prod/web, container app`: the object as the text report names it.
    public var subject: String {
        var text = kind
        let qualified = namespace.map { "\($0)/\(name)" } ?? name
        if !qualified.isEmpty { text += " " + qualified }
        if let container { text += ", container \(container)" }
        return text
    }
}

/// Where the findings of one object go: each is dropped when its rule is ignored there.
public struct FindingSink {
    public private(set) var findings: [Finding] = []
    let ignored: Set<String>
    let file: String
    let kind: String
    let namespace: String?
    let name: String

    init(meta: ObjectMeta, ignored: Set<String>) {
        self.ignored = ignored.union(meta.ignored?.value ?? [])
        self.file = meta.file
        self.kind = meta.kind
        self.namespace = meta.namespace
        self.name = meta.name
    }

    init(file: String, kind: String, ignored: Set<String>) {
        self.ignored = ignored
        self.file = file
        self.kind = kind
        self.namespace = nil
        self.name = ""
    }

    mutating func report(
        _ rule: Rule, at mark: SourceMark, field: String, container: String? = nil, _ message: String, fix: String
    ) {
        guard !ignored.contains(rule.id) else { return }
        findings.append(
            Finding(
                rule: rule, file: file, mark: mark, kind: kind, namespace: namespace, name: name,
                container: container, field: field, message: message, fix: fix))
    }

    mutating func report<Value>(
        _ rule: Rule, _ field: Field<Value>, container: String? = nil, _ message: String, fix: String
    ) {
        report(rule, at: field.mark, field: field.path, container: container, message, fix: fix)
    }
}
