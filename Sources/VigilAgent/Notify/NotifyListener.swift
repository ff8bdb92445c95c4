import Logging
import NIOCore
import NIOPosix
import VigilCore
import VigilSystem

#if canImport(Glibc)
import Glibc
#endif

/// The agent's side of sd_notify (`VIGIL_NOTIFY=true`): a thread blocks in `recvmsg` on the
/// notify socket (NIO does not expose SCM_CREDENTIALS) and posts each datagram to the loop, where
/// only the app's process group is heard and the message goes to the health monitor. Event-loop
/// confined, but for the reading thread, which holds only the socket and a `NIOLoopBound`.
final class NotifyListener {
    private let health: HealthMonitor
    private let logger: Logger
    /// The app's process group (its pid, as vigil starts it in a group of its own), if it runs.
    private let appGroup: () -> Int32?
    /// Senders already logged as refused, so a chatty stranger costs one line.
    private var refused: Set<Int32> = []

    init(health: HealthMonitor, logger: Logger, appGroup: @escaping () -> Int32?) {
        self.health = health
        self.logger = logger
        self.appGroup = appGroup
    }

    /// Starts the reading thread; each datagram reaches `received` on `loop`.
    static func startReading(_ socket: NotifySocket, loop: EventLoop, bound: NIOLoopBound<NotifyListener>) {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        pool.submit { _ in
            while true {
                do {
                    let datagram = try socket.receive()
                    loop.execute { bound.value.received(datagram) }
                } catch {
                    usleep(100_000)  // ENOMEM, ENOBUFS: try again without spinning
                }
            }
        }
    }

    func received(_ datagram: NotifySocket.Datagram) {
        guard let group = appGroup(), datagram.senderGroup == group else {
            if refused.insert(datagram.senderPid).inserted {
                logger.warning(
                    "ignored an sd_notify message: only the app's process group may send",
                    metadata: ["pid": "\(datagram.senderPid)"])
            }
            return
        }
        let message = NotifyMessage.parse(datagram.bytes)
        let before = health.model.notify
        health.notified(message)
        guard let after = health.model.notify else { return }
        if message.ready && before?.phase != .ready { logger.info("the app is ready (READY=1)") }
        if message.reloading && before?.phase != .reloading { logger.info("the app is reloading (RELOADING=1)") }
        if message.stopping { logger.info("the app is stopping (STOPPING=1): readiness fails") }
        if message.watchdogTrigger && after.triggered { logger.warning("the app triggered its watchdog") }
        if let status = message.status, status != before?.status {
            logger.info("app status", metadata: ["status": "\(status)"])
        }
    }
}
