import VigilLintCore
import Yams

/// YAML (and JSON) text to `LintNode` documents, through Yams (libyaml). Scalars are not
/// resolved to types here (Yams' `.basic` resolver: no regular expression per scalar); the
/// object reader interprets them where it needs a number.
enum YAMLReader {
    /// Flow collections nested deeper than this are refused before libyaml sees them: Yams builds
    /// its tree recursively, and a line of 100,000 `[` would exhaust any stack.
    static let maximumFlowDepth = 1_000
    /// A document that expands (through aliases) to more nodes than this is refused.
    static let maximumNodes = 5_000_000

    /// LINEOFFSET: lines before TEXT in its file, when TEXT is a chunk of it.
    static func documents(_ text: String, file: String, lineOffset: Int = 0) throws(Report.InputProblem) -> [LintNode] {
        if let line = tooDeep(text) {
            throw Report.InputProblem(
                file: file, mark: SourceMark(line: line + lineOffset, column: 1),
                message: "invalid YAML: flow collections nested deeper than \(maximumFlowDepth) levels")
        }
        var documents: [LintNode] = []
        do {
            let parser = try Parser(yaml: text, resolver: .basic, encoding: .utf8)
            var budget = maximumNodes
            while let root = try parser.nextRoot() {
                guard let node = convert(root, budget: &budget, lineOffset: lineOffset) else {
                    throw Report.InputProblem(
                        file: file, mark: root.mark.map { SourceMark(line: $0.line + lineOffset, column: $0.column) },
                        message: "invalid YAML: the document expands to more than \(maximumNodes) nodes (aliases?)")
                }
                documents.append(node)
            }
        } catch let problem as Report.InputProblem {
            throw problem
        } catch let error as YamlError {
            throw problem(error, file: file, lineOffset: lineOffset)
        } catch {
            throw Report.InputProblem(file: file, mark: nil, message: "invalid YAML: \(error)")
        }
        return documents
    }

    static func convert(_ node: Node, budget: inout Int, lineOffset: Int) -> LintNode? {
        budget -= 1
        guard budget >= 0 else { return nil }
        func mark(_ mark: Mark?) -> SourceMark? {
            mark.map { SourceMark(line: $0.line + lineOffset, column: $0.column) }
        }
        let at = mark(node.mark) ?? .start
        switch node {
        case .scalar(let scalar):
            return .scalar(scalar.string, plain: scalar.style == .plain || scalar.style == .any, at: at)
        case .sequence(let sequence):
            var items: [LintNode] = []
            items.reserveCapacity(sequence.count)
            for item in sequence {
                guard let converted = convert(item, budget: &budget, lineOffset: lineOffset) else { return nil }
                items.append(converted)
            }
            return .sequence(items, at: at)
        case .mapping(let mapping):
            var pairs: [LintNode.Pair] = []
            pairs.reserveCapacity(mapping.count)
            var merged: [LintNode.Pair] = []
            for (key, value) in mapping {
                guard let converted = convert(value, budget: &budget, lineOffset: lineOffset) else { return nil }
                let text = key.scalar?.string ?? ""
                if text == "<<", key.scalar?.style == .plain {
                    // YAML merge keys, as Kubernetes' YAML reader applies them: keys of the merged
                    // mappings that the mapping does not set itself.
                    let sources = converted.items.isEmpty ? [converted] : converted.items
                    for source in sources { merged += source.pairs }
                    continue
                }
                let keyMark = mark(key.mark) ?? at
                pairs.append(LintNode.Pair(key: text, keyMark: keyMark, value: converted))
            }
            for pair in merged where !pairs.contains(where: { $0.key == pair.key }) { pairs.append(pair) }
            return .mapping(pairs, at: at)
        case .alias:
            return .scalar("", plain: true, at: at)
        }
    }

    static func problem(_ error: YamlError, file: String, lineOffset: Int) -> Report.InputProblem {
        func located(_ context: YamlError.Context?, _ problem: String, _ mark: Mark) -> Report.InputProblem {
            let detail = context.map { "\($0.text) (line \($0.mark.line + lineOffset)): " } ?? ""
            return Report.InputProblem(
                file: file, mark: SourceMark(line: mark.line + lineOffset, column: mark.column),
                message: "invalid YAML: \(detail)\(problem)")
        }
        switch error {
        case .scanner(let context, let problem, let mark, _): return located(context, problem, mark)
        case .parser(let context, let problem, let mark, _): return located(context, problem, mark)
        case .composer(let context, let problem, let mark, _): return located(context, problem, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Report.InputProblem(
                file: file, mark: SourceMark(line: context.mark.line + lineOffset, column: context.mark.column),
                message: "invalid YAML: duplicate key \(duplicates.joined(separator: ", ")) in a mapping")
        case .reader(let problem, _, _, _):
            return Report.InputProblem(file: file, mark: nil, message: "invalid YAML: \(problem)")
        default:
            return Report.InputProblem(file: file, mark: nil, message: "invalid YAML: \(error)")
        }
    }

    /// The line where flow nesting (`[`, `{` outside quotes and comments) passes the limit.
    static func tooDeep(_ text: String) -> Int? {
        var text = text
        return text.withUTF8 { bytes in
            var depth = 0
            var line = 1
            var quote: UInt8 = 0
            var comment = false
            var previous: UInt8 = 0x0A
            for byte in bytes {
                defer { previous = byte }
                if byte == 0x0A {
                    line += 1
                    comment = false
                    continue
                }
                if comment { continue }
                if quote != 0 {
                    if byte == quote && !(quote == 0x22 && previous == 0x5C) { quote = 0 }
                    continue
                }
                switch byte {
                case 0x23:  // `#` after a space starts a comment
                    comment = previous == 0x20 || previous == 0x0A || previous == 0x09
                case 0x22, 0x27:  // a quote where a scalar can start: after space, [, {, ",", ":" or "-"
                    switch previous {
                    case 0x20, 0x09, 0x0A, 0x5B, 0x7B, 0x2C, 0x3A, 0x2D: quote = byte
                    default: break
                    }
                case 0x5B, 0x7B:
                    depth += 1
                    if depth > maximumFlowDepth { return line }
                case 0x5D, 0x7D: depth = max(0, depth - 1)
                default: break
                }
            }
            return nil
        }
    }
}
