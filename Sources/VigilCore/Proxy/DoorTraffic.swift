/// What the front door has seen, for `/metrics`: counted on the event loop, copied into each
/// snapshot. Counters only grow (across app restarts too).
public struct DoorTraffic: Sendable, Equatable {
    /// Where the front door is in a drain.
    public enum Phase: String, Sendable, CaseIterable {
        /// Forwarding, keep-alive as the client asks.
        case serving
        /// Readiness fails: still accepting, every response closes its connection.
        case closing
        /// The drain delay is over: the listener is closed, the last requests and tunnels finish.
        case finishing
    }

    /// Upper bounds of the latency histogram, in seconds (Prometheus' default buckets).
    public static let bucketBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    public var phase: Phase = .serving
    /// Responses by status class: index 0 is 1xx … index 4 is 5xx.
    public var responses: [Int] = [0, 0, 0, 0, 0]
    public var inFlight = 0
    public var connections = 0
    public var tunnels = 0
    /// Requests waiting for the app to come back (restart).
    public var waiting = 0
    /// Cumulative counts per bucket, then +Inf.
    public var latencyBuckets: [Int] = Array(repeating: 0, count: DoorTraffic.bucketBounds.count + 1)
    public var latencySumMilliseconds: Int64 = 0

    public init() {}

    /// One response sent: its status and the time from the request's head to the response's end.
    public mutating func recordResponse(status: Int, milliseconds: Int64) {
        let index = min(max(status / 100, 1), 5) - 1
        responses[index] += 1
        let seconds = Double(milliseconds) / 1000
        for (bucket, bound) in Self.bucketBounds.enumerated() where seconds <= bound {
            latencyBuckets[bucket] += 1
        }
        latencyBuckets[Self.bucketBounds.count] += 1
        latencySumMilliseconds += milliseconds
    }

    /// Nothing left that stopping the app would break.
    public var isQuiet: Bool { inFlight == 0 && tunnels == 0 && waiting == 0 }
}
