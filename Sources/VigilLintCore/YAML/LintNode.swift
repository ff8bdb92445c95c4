/// A position in an input file: line and column, both counted from 1 (columns in Unicode scalars).
public struct SourceMark: Sendable, Equatable, Comparable, Hashable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static let start = SourceMark(line: 1, column: 1)

    public static func < (a: SourceMark, b: SourceMark) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }
}

/// One YAML (or JSON) document as the rules see it: scalars keep their text, whether they were
/// plain (unquoted), and where they were; mappings keep their keys in order with the keys' marks.
/// The reader that builds it (Yams in the `VigilLint` module) is the only part that parses text.
public indirect enum LintNode: Sendable {
    case scalar(String, plain: Bool, at: SourceMark)
    case mapping([Pair], at: SourceMark)
    case sequence([LintNode], at: SourceMark)

    public struct Pair: Sendable {
        public var key: String
        public var keyMark: SourceMark
        public var value: LintNode

        public init(key: String, keyMark: SourceMark, value: LintNode) {
            self.key = key
            self.keyMark = keyMark
            self.value = value
        }
    }

    public var mark: SourceMark {
        switch self {
        case .scalar(_, _, let mark), .mapping(_, let mark), .sequence(_, let mark): mark
        }
    }

    /// The value under `key` in a mapping; nil when absent, null, or when this is not a mapping.
    public subscript(key: String) -> LintNode? {
        pair(key).map(\.value)
    }

    /// The pair of `key` (the last one when YAML repeats it), unless its value is null.
    public func pair(_ key: String) -> Pair? {
        guard case .mapping(let pairs, _) = self else { return nil }
        guard let found = pairs.last(where: { $0.key == key }), !found.value.isNull else { return nil }
        return found
    }

    public var pairs: [Pair] {
        if case .mapping(let pairs, _) = self { return pairs }
        return []
    }

    public var items: [LintNode] {
        if case .sequence(let items, _) = self { return items }
        return []
    }

    public var isNull: Bool {
        guard case .scalar(let text, let plain, _) = self, plain else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// A scalar's text (quoted or not); nil for null, mappings and sequences.
    public var string: String? {
        guard case .scalar(let text, _, _) = self, !isNull else { return nil }
        return text
    }

    /// A whole number written as a scalar (`3`, `"3"`, `+3`).
    public var int: Int? {
        guard let text = string else { return nil }
        return Int(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// YAML 1.1 and JSON booleans.
    public var bool: Bool? {
        switch string?.lowercased() {
        case "true", "yes", "on": true
        case "false", "no", "off": false
        default: nil
        }
    }

    /// A sequence of scalars (`command:`, `args:`); nil when any item is not a scalar.
    public var strings: [String]? {
        guard case .sequence(let items, _) = self else { return nil }
        var result: [String] = []
        for item in items {
            guard let text = item.string else { return nil }
            result.append(text)
        }
        return result
    }

    /// `key: value` string pairs of a mapping (labels, annotations, selectors).
    public var stringMap: [String: String] {
        var result: [String: String] = [:]
        for pair in pairs {
            if let text = pair.value.string { result[pair.key] = text }
        }
        return result
    }
}
