import CVigilSystem
import Synchronization
import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// Who waits on which child. Spawning and registering happen under the same lock the reaper
/// takes, so a child that exits at once is never reaped before its waiter is known.
public final class ChildRegistry: Sendable {
    public typealias Waiter = @Sendable (Termination) -> Void

    private let waiters = Mutex<[Int32: Waiter]>([:])
    private let onUnclaimed: @Sendable (Int32, Termination) -> Void

    public init(onUnclaimed: @escaping @Sendable (Int32, Termination) -> Void = { _, _ in }) {
        self.onUnclaimed = onUnclaimed
    }

    func deliver(pid: Int32, _ termination: Termination) {
        let waiter = waiters.withLock { $0.removeValue(forKey: pid) }
        if let waiter { waiter(termination) } else { onUnclaimed(pid, termination) }
    }

    /// Spawns and registers `waiter` for the new pid atomically with respect to reaping.
    public func spawn(
        _ request: SpawnRequest, inherited: InheritedSignalState, waiter: @escaping Waiter
    ) -> Result<Int32, SystemError> {
        waiters.withLock { waiters in
            let result = Spawner.spawn(request, inherited: inherited)
            if case .success(let pid) = result { waiters[pid] = waiter }
            return result
        }
    }
}

public struct SpawnRequest: Sendable {
    public var arguments: [String]
    /// The file to run when it is not `arguments[0]` looked up in PATH (vigil re-executing itself).
    public var executable: String? = nil
    /// Descriptors for the child's stdout and stderr; nil inherits vigil's own.
    public var stdout: Int32? = nil
    public var stderr: Int32? = nil
    public var stdinFromDevNull = false
    /// Hand the terminal's foreground group to the child when vigil owns the terminal.
    public var takeTerminal = false
    /// `(fd, as: N)`: vigil's `fd` becomes the child's descriptor N (it must differ from N).
    public var extraDescriptor: (fd: Int32, as: Int32)? = nil

    public init(arguments: [String]) { self.arguments = arguments }
}

enum Spawner {
    /// posix_spawnp in a new process group with the inherited mask and default dispositions.
    static func spawn(_ request: SpawnRequest, inherited: InheritedSignalState) -> Result<Int32, SystemError> {
        var mask = inherited.mask
        var defaults = inherited.defaults
        let stdio = cvigil_stdio(
            stdin_fd: -1, stdout_fd: request.stdout ?? -1, stderr_fd: request.stderr ?? -1,
            stdin_devnull: request.stdinFromDevNull ? 1 : 0, extra_fd: request.extraDescriptor?.fd ?? -1,
            extra_target: request.extraDescriptor?.as ?? -1)
        var cArguments: [UnsafeMutablePointer<CChar>?] = request.arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        inherited.descriptors.withUnsafeBufferPointer { keep in
            cvigil_cloexec_all_except(keep.baseAddress, Int32(keep.count))
        }
        let rc = cvigil_spawn(
            request.executable ?? request.arguments[0], &cArguments, environ, &mask, &defaults, stdio,
            request.takeTerminal ? 1 : 0, &pid)
        return rc == 0 ? .success(pid) : .failure(SystemError("posix_spawnp", errno: rc))
    }
}

public enum Pipes {
    /// A close-on-exec pipe: (read end, write end).
    public static func make() throws(SystemError) -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try retryingEINTR("pipe2") { cvigil_pipe_cloexec(&fds) }
        return (fds[0], fds[1])
    }

    public static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// A close-on-exec pipe whose write end is not `avoid` (a dup2 onto itself would keep it
    /// close-on-exec): (read end, write end).
    public static func make(avoiding avoid: Int32) throws(SystemError) -> (Int32, Int32) {
        var (read, write) = try make()
        if write == avoid {
            let moved = try retryingEINTR("fcntl") { fcntl(write, F_DUPFD_CLOEXEC, avoid + 1) }
            close(write)
            write = moved
        }
        if read == avoid {
            let moved = try retryingEINTR("fcntl") { fcntl(read, F_DUPFD_CLOEXEC, avoid + 1) }
            close(read)
            read = moved
        }
        return (read, write)
    }
}
