import NIOCore
import NIOPosix
import VigilCore
import VigilSystem

/// Runs `exec:` checks: stdin from /dev/null, stdout and stderr into a pipe of which the first
/// 10 KiB are kept as the reason. Each run goes through an `ExecCheckRunner` (vigil re-executed
/// as a subreaper), so nothing the command starts outlives the run, not even a daemon in a
/// session of its own; at a timeout the runner is told to stop and clears its descendants.
/// Without /proc the command runs directly in its own process group, which is SIGKILLed.
final class ExecCheckProcesses {
    static let outputLimit = 10 * 1024

    let registry: ChildRegistry
    let inherited: InheritedSignalState
    /// nil without /proc: then commands run directly.
    let runner: String?
    /// Running checks by pid, stopped when vigil exits. Event-loop confined.
    private var live: [Int32: ExecRun] = [:]

    init(registry: ChildRegistry, inherited: InheritedSignalState, runner: String? = ExecCheckRunner.executable) {
        self.registry = registry
        self.inherited = inherited
        self.runner = runner
    }

    var running: Int { live.count }

    func run(_ arguments: [String], on loop: EventLoop, promise: EventLoopPromise<(Bool, String)>) -> () -> Void {
        let readEnd: Int32
        let writeEnd: Int32
        do {
            (readEnd, writeEnd) = try Pipes.make()
        } catch {
            promise.succeed((false, "\(error)"))
            return {}
        }
        var request = SpawnRequest(arguments: runner == nil ? arguments : ExecCheckRunner.arguments(for: arguments))
        request.executable = runner
        request.stdout = writeEnd
        request.stderr = writeEnd
        request.stdinFromDevNull = true
        let run = ExecRun(
            promise: promise, output: OutputCollector(limit: Self.outputLimit), command: arguments[0],
            viaRunner: runner != nil)
        let bound = NIOLoopBound(run, eventLoop: loop)
        let spawned = registry.spawn(request, inherited: inherited) { termination in
            loop.execute {
                bound.value.exited(termination)
                // Output still in flight after exit gets a moment, not forever (a grandchild may hold the pipe).
                loop.assumeIsolated().scheduleTask(in: .milliseconds(100)) { bound.value.finish(force: true) }
            }
        }
        Pipes.close(writeEnd)
        let pid: Int32
        switch spawned {
        case .success(let spawnedPid):
            pid = spawnedPid
        case .failure(let error):
            Pipes.close(readEnd)
            promise.succeed((false, "\(arguments[0]): \(Termination.spawnFailed(errno: error.errno))"))
            return {}
        }
        run.pid = pid
        live[pid] = run
        promise.futureResult.assumeIsolated().whenComplete { _ in
            // Whatever the check left behind goes with it.
            run.stop()
            self.live[pid] = nil
        }
        NIOPipeBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(bound.value.output)
                }
            }
            .takingOwnershipOfDescriptor(input: readEnd)
            .assumeIsolated()
            .whenComplete { result in
                switch result {
                case .success(let channel):
                    run.pipe = channel
                    channel.closeFuture.assumeIsolated().whenComplete { _ in run.outputClosed() }
                case .failure:
                    Pipes.close(readEnd)
                    run.outputClosed()
                }
            }
        return {
            run.stop()
            run.pipe?.close(promise: nil)
        }
    }

    /// Stops every running check (vigil is exiting); runners clear their descendants themselves.
    func stopAll() {
        for run in live.values { run.stop() }
    }

    /// One run's progress: it ends when the process has exited and its output is closed (or a
    /// moment after the exit, when a grandchild keeps the pipe open).
    final class ExecRun {
        let promise: EventLoopPromise<(Bool, String)>
        let output: OutputCollector
        let command: String
        let viaRunner: Bool
        var pid: Int32? = nil
        var pipe: Channel? = nil
        private var exit: Termination? = nil
        private var outputIsClosed = false
        private var finished = false

        init(promise: EventLoopPromise<(Bool, String)>, output: OutputCollector, command: String, viaRunner: Bool) {
            self.promise = promise
            self.output = output
            self.command = command
            self.viaRunner = viaRunner
        }

        /// Ends the run's processes, if they still run: the runner is asked (it clears its
        /// descendants), a direct command's group is killed. Never signals a reaped pid.
        func stop() {
            guard let pid else { return }
            if !viaRunner {
                ProcessControl.send(9, to: -pid)  // the group outlives its leader's pid
            } else if exit == nil {
                ProcessControl.send(15, to: pid)
            }
        }

        func exited(_ termination: Termination) {
            exit = termination
            finish()
        }

        func outputClosed() {
            outputIsClosed = true
            finish()
        }

        func finish(force: Bool = false) {
            guard !finished, let exit, outputIsClosed || force else { return }
            finished = true
            pipe?.close(promise: nil)
            let text = output.text
            switch exit {
            case .exited(let code) where viaRunner && (code == 127 || code == 126) && text.isEmpty:
                // The runner could not start the command: said as a direct spawn would say it.
                promise.succeed((false, "\(command): \(Termination.spawnFailed(errno: code == 127 ? 2 : 13))"))
            case .exited(0):
                promise.succeed((true, text.isEmpty ? "exit code 0" : text))
            default:
                promise.succeed((false, text.isEmpty ? "\(exit)" : "\(exit): \(text)"))
            }
        }
    }

    final class OutputCollector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let limit: Int
        var bytes: [UInt8] = []

        init(limit: Int) { self.limit = limit }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            let room = limit - bytes.count
            if room > 0, let chunk = buffer.readBytes(length: min(room, buffer.readableBytes)) {
                bytes.append(contentsOf: chunk)
            }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if case .some(.inputClosed) = event as? ChannelEvent { context.close(promise: nil) }
            context.fireUserInboundEventTriggered(event)
        }

        /// The output as one line: reasons are shown in one-line-per-check bodies and log fields.
        var text: String {
            String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
                .split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: "; ")
        }
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
