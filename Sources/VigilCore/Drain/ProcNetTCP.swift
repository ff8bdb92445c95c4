/// Reads `/proc/net/tcp` and `/proc/net/tcp6` text: which connections are established on which
/// local ports. The connection-aware drain waits until none is left on the app's ports.
///
/// Works on bytes: the drain polls every 100 ms and a busy host's table holds thousands of
/// TIME_WAIT lines, which splitting into strings made cost tens of milliseconds per poll.
public enum ProcNetTCP {
    /// Established connections whose local port is one of `ports`.
    public static func establishedConnections(in text: String, localPorts ports: Set<Int>) -> Int {
        establishedConnections(in: Array(text.utf8), localPorts: ports)
    }

    public static func establishedConnections(in bytes: [UInt8], localPorts ports: Set<Int>) -> Int {
        let space: UInt8 = 32
        let newline: UInt8 = 10
        let colon: UInt8 = 58
        var count = 0
        var index = 0
        let end = bytes.count
        // Skip the header line.
        while index < end && bytes[index] != newline { index += 1 }
        while index < end {
            index += 1  // past the newline
            // Fields: sl, local_address (hex ip:hex port), rem_address, st (hex state).
            var field = 0
            var localPort = -1
            var state = -1
            while index < end && bytes[index] != newline && field < 4 {
                while index < end && bytes[index] == space { index += 1 }
                let start = index
                while index < end && bytes[index] != space && bytes[index] != newline { index += 1 }
                if field == 1 {
                    var c = index - 1
                    while c > start && bytes[c] != colon { c -= 1 }
                    localPort = hexValue(bytes, from: c + 1, to: index)
                } else if field == 3 {
                    state = hexValue(bytes, from: start, to: index)
                }
                field += 1
            }
            if state == 1 && ports.contains(localPort) { count += 1 }
            while index < end && bytes[index] != newline { index += 1 }
        }
        return count
    }

    /// The hex number in `bytes[start..<end]`, or -1 when it is not one. The fields read (a port,
    /// a state) are at most 4 digits: a longer one is malformed, and never overflows.
    private static func hexValue(_ bytes: [UInt8], from start: Int, to end: Int) -> Int {
        guard start < end, end - start <= 8 else { return -1 }
        var value = 0
        for i in start..<end {
            let b = bytes[i]
            switch b {
            case 48...57: value = value << 4 | Int(b - 48)
            case 65...70: value = value << 4 | Int(b - 55)
            case 97...102: value = value << 4 | Int(b - 87)
            default: return -1
            }
        }
        return value
    }
}
