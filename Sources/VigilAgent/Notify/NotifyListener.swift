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
    private let loop: EventLoop
    private let health: HealthMonitor
    private let logger: Logger
    /// The app's process group (its pid, as vigil starts it in a group of its own), if it runs.
    private let appGroup: () -> Int32?
    /// Senders already logged as refused, so a chatty stranger costs one line.
    private var refused: Set<Int32> = []

    /// The app run whose readiness descriptor counts (`VIGIL_NOTIFY_FD`).
    private var pipeGeneration = 0

    init(loop: EventLoop, health: HealthMonitor, logger: Logger, appGroup: @escaping () -> Int32?) {
        self.loop = loop
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

    // MARK: - s6: a newline on a descriptor (`VIGIL_NOTIFY_FD`)

    /// A new pipe for the app about to start: its write end becomes the app's descriptor `target`,
    /// its read end is watched on the loop. nil (logged) when no pipe can be made.
    func readinessDescriptor(as target: Int32) -> (fd: Int32, as: Int32)? {
        let ends: (Int32, Int32)
        do {
            ends = try Pipes.make(avoiding: target)
        } catch {
            logger.error("cannot make the readiness descriptor: \(error)")
            return nil
        }
        pipeGeneration += 1
        let generation = pipeGeneration
        let bound = NIOLoopBound(self, eventLoop: loop)
        _ = NIOPipeBootstrap(group: loop).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    ReadinessPipeHandler(target: target) { bound.value.pipeSaidReady(generation, target) })
            }
        }.takingOwnershipOfDescriptor(input: ends.0)
        return (ends.1, target)
    }

    private func pipeSaidReady(_ generation: Int, _ target: Int32) {
        guard generation == pipeGeneration else { return }  // an earlier run of the app
        let before = health.model.notify
        var message = NotifyMessage()
        message.ready = true
        health.notified(message)
        if before?.phase != .ready { logger.info("the app is ready (a newline on its descriptor \(target))") }
    }
}

/// Calls `ready` for each newline the app writes to its readiness descriptor.
private final class ReadinessPipeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let target: Int32
    let ready: () -> Void

    init(target: Int32, ready: @escaping () -> Void) {
        self.target = target
        self.ready = ready
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if buffer.readableBytesView.contains(10) { ready() }
    }
}
