/// Reads `/proc/net/tcp` and `/proc/net/tcp6` text: which connections are established on which
/// local ports. The connection-aware drain waits until none is left on the app's ports.
public enum ProcNetTCP {
    static let established = "01"

    /// Established connections whose local port is one of `ports`.
    public static func establishedConnections(in text: String, localPorts ports: Set<Int>) -> Int {
        var count = 0
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // sl local_address rem_address st …
            guard fields.count > 3, fields[3] == established,
                  let colon = fields[1].lastIndex(of: ":"),
                  let port = Int(fields[1][fields[1].index(after: colon)...], radix: 16)
            else { continue }
            if ports.contains(port) { count += 1 }
        }
        return count
    }
}
