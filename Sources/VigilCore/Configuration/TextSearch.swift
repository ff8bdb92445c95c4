/// Substring search on UTF-8, so that VigilCore does not link _StringProcessing (and its regex
/// parser: about 1 MB of the static binary) for `contains` and `firstRange(of:)`.
public enum TextSearch {
    public static func firstRange(of needle: String, in haystack: String) -> Range<String.Index>? {
        let hay = haystack.utf8
        let pin = needle.utf8
        guard !pin.isEmpty else { return haystack.startIndex..<haystack.startIndex }
        var start = hay.startIndex
        while start != hay.endIndex {
            var h = start
            var p = pin.startIndex
            while h != hay.endIndex, p != pin.endIndex, hay[h] == pin[p] {
                h = hay.index(after: h)
                p = pin.index(after: p)
            }
            if p == pin.endIndex { return start..<h }
            if h == hay.endIndex { return nil }
            start = hay.index(after: start)
        }
        return nil
    }

    public static func contains(_ haystack: String, _ needle: String) -> Bool {
        firstRange(of: needle, in: haystack) != nil
    }
}
