/// Durations as users write them in `VIGIL_*` variables: `500ms`, `5s`, `1m30s`, `1.5s`, `2h`,
/// or a bare number meaning seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let text = text.trimmingASCIIWhitespace()
        guard !text.isEmpty else { return nil }
        if let seconds = Double(text), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            return seconds.isFinite ? .milliseconds(Int64((seconds * 1000).rounded())) : nil
        }
        var total: Double = 0
        var rest = Substring(text)
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            default: return nil
            }
        }
        guard total.isFinite, total < 1e9 else { return nil }
        return .milliseconds(Int64((total * 1000).rounded()))
    }

    /// The shortest text that parses back to the same duration: `500ms`, `5s`, `1m30s`, `1.5s`.
    public static func format(_ duration: Duration) -> String {
        let totalMilliseconds = duration.milliseconds
        if totalMilliseconds == 0 { return "0s" }
        if totalMilliseconds < 1000 { return "\(totalMilliseconds)ms" }
        var result = ""
        var seconds = totalMilliseconds / 1000
        let milliseconds = totalMilliseconds % 1000
        if seconds >= 3600 && milliseconds == 0 {
            result += "\(seconds / 3600)h"
            seconds %= 3600
        }
        if seconds >= 60 && milliseconds == 0 {
            result += "\(seconds / 60)m"
            seconds %= 60
        }
        if milliseconds != 0 {
            var fraction = String(milliseconds)
            fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            result += "\(seconds).\(fraction)s"
        } else if seconds != 0 || result.isEmpty {
            result += "\(seconds)s"
        }
        return result
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    public var secondsValue: Double {
        Double(self.milliseconds) / 1000
    }
}

extension String {
    func trimmingASCIIWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" || first == "\n" || first == "\r" {
            slice.removeFirst()
        }
        while let last = slice.last, last == " " || last == "\t" || last == "\n" || last == "\r" {
            slice.removeLast()
        }
        return String(slice)
    }
}
