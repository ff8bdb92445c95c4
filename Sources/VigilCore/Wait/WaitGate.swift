/// `vigil wait URL`: the pipeline's gate before a blue-green switch. Pure: each poll's observation
/// and the time come in; a progress line (only when what it sees changed) and the verdict go out.
/// Done once the instance has been ready, at the wanted version, continuously for `readyFor`.
public struct WaitGate: Sendable {
    /// What one poll of the instance found.
    public enum Observation: Sendable, Equatable {
        /// No answer from `/readyz` (connection refused, timeout, …).
        case unreachable(String)
        /// `/readyz` answered; `version` is the app's as `/status?format=json` names it (nil: none).
        case answered(ready: Bool, reason: String?, version: String?)
    }

    public enum Verdict: Sendable, Equatable {
        case waiting
        case done
    }

    public let readyFor: Duration
    public let version: String?
    /// The last observation's description, the one printed.
    public private(set) var lastSeen = "nothing yet"
    /// Since when the instance has been ready at the wanted version (monotonic milliseconds).
    private var satisfiedSince: Int64? = nil

    public init(readyFor: Duration, version: String?) {
        self.readyFor = readyFor
        self.version = version
    }

    /// Takes one observation at `now`; returns the line to print (nil when nothing changed) and the verdict.
    public mutating func observe(_ observation: Observation, at now: Int64) -> (line: String?, verdict: Verdict) {
        let seen: String
        var satisfied = false
        switch observation {
        case .unreachable(let reason):
            seen = "unreachable: \(reason)"
        case .answered(let ready, let reason, let seenVersion):
            let shownVersion = seenVersion.map { "version \($0)" } ?? "no version"
            if let version, seenVersion != version {
                seen = "\(ready ? "ready" : "not ready"), \(shownVersion), waiting for version \(version)"
            } else if ready {
                seen = "ready, \(shownVersion)"
                satisfied = true
            } else {
                seen = "not ready" + (reason.map { ": \($0)" } ?? "") + ", \(shownVersion)"
            }
        }
        var line: String? = nil
        if seen != lastSeen {
            lastSeen = seen
            line =
                satisfied && readyFor > .zero ? "\(seen); must stay ready for \(DurationText.format(readyFor))" : seen
        }
        guard satisfied else {
            satisfiedSince = nil
            return (line, .waiting)
        }
        let since = satisfiedSince ?? now
        satisfiedSince = since
        return (line, now - since >= readyFor.milliseconds ? .done : .waiting)
    }

    /// How long it has been satisfied, for the final line.
    public func satisfiedFor(at now: Int64) -> Duration {
        satisfiedSince.map { .milliseconds(now - $0) } ?? .zero
    }

    /// The first failing line of a `/readyz?verbose` body (`[-]db failed: connection refused` → `db
    /// failed: connection refused`), as the reason the instance is not ready.
    public static func reason(fromVerbose body: String) -> String? {
        for line in body.split(separator: "\n") where line.hasPrefix("[-]") {
            return String(line.dropFirst(3))
        }
        return nil
    }

    /// The app's version in a `/status?format=json` document: `"version":{"vigil":…,"app":"v2"}`.
    /// nil when absent or null (an older vigil, or no `VIGIL_VERSION`).
    public static func appVersion(inStatusJSON json: String) -> String? {
        guard let object = TextSearch.firstRange(of: "\"version\":{", in: json) else { return nil }
        let rest = String(json[object.upperBound...])
        guard let key = TextSearch.firstRange(of: "\"app\":", in: rest) else { return nil }
        let value = rest[key.upperBound...]
        guard value.hasPrefix("\"") else { return nil }
        return decodeString(value.dropFirst())
    }

    /// A JSON string's content up to its closing quote, escapes decoded.
    static func decodeString(_ text: Substring) -> String? {
        var result = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            switch scalar {
            case "\"": return result
            case "\\":
                guard let escaped = iterator.next() else { return nil }
                switch escaped {
                case "n": result += "\n"
                case "t": result += "\t"
                case "r": result += "\r"
                case "b": result += "\u{8}"
                case "f": result += "\u{c}"
                case "u":
                    var code: UInt32 = 0
                    for _ in 0..<4 {
                        guard let digit = iterator.next(), let value = UInt32(String(digit), radix: 16) else {
                            return nil
                        }
                        code = code << 4 | value
                    }
                    guard let decoded = Unicode.Scalar(code) else { return nil }
                    result.unicodeScalars.append(decoded)
                default: result.unicodeScalars.append(escaped)
                }
            default: result.unicodeScalars.append(scalar)
            }
        }
        return nil
    }
}
