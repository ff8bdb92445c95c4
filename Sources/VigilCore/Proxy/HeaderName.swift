/// Header names compared as HTTP compares them (ASCII case-insensitive), without allocating: the
/// front door looks at every field of every request and response.
enum HeaderName {
    /// Whether `name` is `lowercase` (given in lower case) in any ASCII case.
    static func matches(_ name: String, _ lowercase: String) -> Bool {
        guard name.utf8.count == lowercase.utf8.count else { return false }
        for (byte, expected) in zip(name.utf8, lowercase.utf8) {
            let folded = (65...90).contains(byte) ? byte | 0x20 : byte
            if folded != expected { return false }
        }
        return true
    }
}
