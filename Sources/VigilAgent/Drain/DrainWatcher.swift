import Logging
import NIOCore
import VigilCore
import VigilSystem

/// The connection-aware part of the drain (`VIGIL_DRAIN_PORTS`): polls the kernel's view of the
/// TCP connections on the drain ports until none has a request in flight, logging each change.
/// Where sock_diag is refused (a sandbox without netlink), it counts every established connection
/// in /proc/net/tcp instead, idle ones too, and says so once.
final class DrainWatcher {
    /// How the watcher reads the kernel; tests pass their own.
    struct Sources {
        /// Open and busy connections on the drain ports, from sock_diag.
        var inFlight: () -> Result<DrainCount, SystemError>
        /// Established connections on the drain ports, from /proc/net/tcp{,6}.
        var established: () -> Int

        static func kernel(ports: [Int]) -> Sources {
            let set = Set(ports)
            return Sources(
                inFlight: {
                    Result { () throws(SystemError) in
                        DrainCount.of(try SockDiagConnections.connections(onLocalPorts: ports), localPorts: set)
                    }
                },
                established: { ProcNetConnections.established(onLocalPorts: set) })
        }
    }

    static let pollInterval: TimeAmount = .milliseconds(100)

    private let loop: EventLoop
    private let logger: Logger
    private let ports: [Int]
    private let sources: Sources
    private var poll: Scheduled<Void>? = nil
    private var last: Reading? = nil
    /// sock_diag failed once: /proc/net/tcp from then on (a refusal does not go away).
    private var fallingBack = false

    private struct Reading: Equatable {
        var count: DrainCount
        /// false: from /proc/net/tcp, where every open connection counts as busy.
        var exact: Bool
    }

    init(loop: EventLoop, ports: [Int], logger: Logger, sources: Sources? = nil) {
        self.loop = loop
        self.logger = logger
        self.ports = ports
        self.sources = sources ?? .kernel(ports: ports)
    }

    var watchesPorts: Bool { !ports.isEmpty }

    /// Calls `onClosed` once, when no connection on the drain ports has a request in flight.
    func start(onClosed: @escaping () -> Void) {
        cancel()
        check(onClosed)
    }

    func cancel() {
        poll?.cancel()
        poll = nil
    }

    private func read() -> Reading {
        if !fallingBack {
            switch sources.inFlight() {
            case .success(let count): return Reading(count: count, exact: true)
            case .failure(let error):
                fallingBack = true
                let text =
                    "drain: sock_diag is not available (\(error.call): \(ErrorText.errno(error.errno))): "
                    + "counting every established connection on the drain ports, idle keep-alive ones too"
                logger.warning("\(text)")
            }
        }
        let open = sources.established()
        return Reading(count: DrainCount(open: open, busy: open), exact: false)
    }

    private func check(_ onClosed: @escaping () -> Void) {
        let reading = read()
        if reading != last {
            let ports = self.ports.map(String.init).joined(separator: ",")
            let open: Logger.MetadataValue = "\(reading.count.open)"
            if reading.exact {
                let busy: Logger.MetadataValue = "\(reading.count.busy)"
                logger.info(
                    "drain: waiting for requests in flight",
                    metadata: ["busy": busy, "open": open, "ports": "\(ports)"])
            } else {
                logger.info("drain: waiting for connections to close", metadata: ["open": open, "ports": "\(ports)"])
            }
            last = reading
        }
        if reading.count.busy == 0 {
            poll = nil
            onClosed()
            return
        }
        poll = loop.assumeIsolated().scheduleTask(in: Self.pollInterval) { self.check(onClosed) }
    }
}

enum ProcNetConnections {
    static func established(onLocalPorts ports: Set<Int>) -> Int {
        var count = 0
        for path in ["/proc/net/tcp", "/proc/net/tcp6"] {
            if let bytes = Files.read(path) { count += ProcNetTCP.establishedConnections(in: bytes, localPorts: ports) }
        }
        return count
    }
}
