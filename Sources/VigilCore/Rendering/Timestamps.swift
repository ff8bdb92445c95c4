/// RFC 3339 timestamps in UTC from milliseconds since the epoch, without Foundation.
public enum Timestamps {
    public static func rfc3339(millisecondsSinceEpoch: Int64) -> String {
        let milliseconds = Int(millisecondsSinceEpoch % 1000)
        var days = Int(millisecondsSinceEpoch / 1000 / 86400)
        let secondsOfDay = Int(millisecondsSinceEpoch / 1000 % 86400)
        // Civil-from-days (Howard Hinnant's algorithm).
        days += 719468
        let era = (days >= 0 ? days : days - 146096) / 146097
        let dayOfEra = days - era * 146097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146096) / 365
        var year = yearOfEra + era * 400
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        if month <= 2 { year += 1 }
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return
            "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
            + "T\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))"
            + ".\(pad(milliseconds, 3))Z"
    }
}
