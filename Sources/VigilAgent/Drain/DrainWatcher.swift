import Logging
import NIOCore
import VigilCore
import VigilSystem

/// The connection-aware part of the drain (`VIGIL_DRAIN_PORTS`): polls the kernel's table of TCP
/// connections until none is established on the drain ports, logging each change of the count.
final class DrainWatcher {
    typealias Counter = () -> Int

    static let pollInterval: TimeAmount = .milliseconds(100)

    private let loop: EventLoop
    private let logger: Logger
    private let ports: [Int]
    private let count: Counter
    private var poll: Scheduled<Void>? = nil
    private var lastCount: Int? = nil

    init(loop: EventLoop, ports: [Int], logger: Logger, count: Counter? = nil) {
        self.loop = loop
        self.logger = logger
        self.ports = ports
        self.count = count ?? { ProcNetConnections.established(onLocalPorts: Set(ports)) }
    }

    var watchesPorts: Bool { !ports.isEmpty }

    /// Calls `onClosed` once, when the count first reads zero.
    func start(onClosed: @escaping () -> Void) {
        cancel()
        check(onClosed)
    }

    func cancel() {
        poll?.cancel()
        poll = nil
    }

    private func check(_ onClosed: @escaping () -> Void) {
        let open = count()
        if open != lastCount {
            let ports = self.ports.map(String.init).joined(separator: ",")
            logger.info("drain: waiting for connections to close", metadata: ["open": "\(open)", "ports": "\(ports)"])
            lastCount = open
        }
        if open == 0 {
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
