/// Durations as users write them in `VIGIL_*` variables: `500ms`, `5s`, `1m30s`, `1.5s`, `2h`,
/// or a bare number meaning seconds.
public enum DurationText {
    /// The longest duration any setting takes: a year. Bounding every duration keeps the time
    /// arithmetic inside PID 1 (deadlines in nanoseconds, doubling backoffs) far from overflow.
    public static let maximum: Duration = .seconds(8760 * 3600)

    /// The duration, or nil when the text is not one or is longer than `maximum`.
    public static func parse(_ text: String) -> Duration? {
        guard let seconds = seconds(text), seconds <= maximum.secondsValue else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// Why `parse` refused `text`, for the configuration problem.
    public static func problem(_ text: String) -> String {
        seconds(text) == nil
            ? "not a duration (use 500ms, 5s, 1m30s or a number of seconds)"
            : "longer than \(format(maximum)), the longest duration vigil takes"
    }

    /// The number of seconds `text` spells, unbounded; nil when it is not a duration.
    private static func seconds(_ text: String) -> Double? {
        let text = text.trimmingASCIIWhitespace()
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        if let seconds = Double(text), text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) {
            return seconds.isFinite ? seconds : nil
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
        return total.isFinite ? total : nil
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
