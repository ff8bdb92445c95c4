enum BooleanText {
    static func parse(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes", "on": true
        case "false", "0", "no", "off": false
        default: nil
        }
    }
}

public enum ListenText {
    public static func format(_ address: HostPort) -> String {
        address.host.contains(":") ? "[\(address.host)]:\(address.port)" : "\(address.host):\(address.port)"
    }
}

public enum LineText {
    /// TEXT as one line for a log or a reason: its first LIMIT characters, control characters as spaces.
    public static func oneLine(_ text: String, limit: Int) -> String {
        var shown = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            shown.unicodeScalars.append(scalar.value < 32 || scalar.value == 127 ? " " : scalar)
        }
        return shown
    }
}

public enum IPAddressText {
    /// Whether `host` is a dotted IPv4 address or an IPv6 address (checked loosely: hex and colons).
    public static func isNumeric(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) { return true }
        return host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
