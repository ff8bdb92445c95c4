import CVigilSystem
import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// The signal state vigil was started with, captured before anything can change it, so that
/// children get exactly that back (tini's approach).
public struct InheritedSignalState: Sendable {
    public let mask: sigset_t
    /// Signals whose disposition was SIG_IGN when vigil started: they stay ignored in children.
    public let ignored: Set<Int32>
    /// Descriptors >= 3 vigil was started with: passed on to the app, never closed.
    public let descriptors: [Int32]

    /// Blocks every signal on the calling thread and returns what was there before. Call first
    /// thing in `main`, before any thread exists, so every thread inherits the full mask and
    /// signals are taken only by `SignalLoop`.
    public static func captureAndBlockAll() -> InheritedSignalState {
        cvigil_restore_environment()
        var all = sigset_t()
        sigfillset(&all)
        var original = sigset_t()
        pthread_sigmask(SIG_SETMASK, &all, &original)
        var ignored: Set<Int32> = []
        for signal in Int32(1)...Int32(64) where cvigil_signal_is_ignored(signal) != 0 {
            ignored.insert(signal)
        }
        var descriptors = [Int32](repeating: -1, count: 1024)
        let count = cvigil_list_fds(&descriptors, Int32(descriptors.count))
        return InheritedSignalState(
            mask: original, ignored: ignored, descriptors: Array(descriptors.prefix(Int(count))))
    }

    /// The signals a child must get back with SIG_DFL: all but those ignored at vigil's start.
    var defaults: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in Int32(1)...Int32(64) where !ignored.contains(signal) && signal != SIGKILL && signal != SIGSTOP {
            sigaddset(&set, signal)
        }
        return set
    }
}

public enum ProcessControl {
    /// As PID 1 vigil reaps orphans anyway; elsewhere this makes them re-parent to vigil.
    @discardableResult
    public static func becomeChildSubreaper() -> Bool { cvigil_set_child_subreaper() == 0 }

    public static var pid: Int32 { getpid() }

    /// kill(2); returns the errno on failure (ESRCH when nothing is there).
    @discardableResult
    public static func send(_ signal: Int32, to pid: Int32) -> Int32 {
        kill(pid, signal) == 0 ? 0 : errno
    }

    /// Whether any process (zombies included) is left in the process group.
    public static func groupExists(_ pgid: Int32) -> Bool {
        kill(-pgid, 0) == 0 || errno == EPERM
    }
}

/// The one thread that takes signals: `sigwaitinfo` on the full set. SIGCHLD reaps every child
/// with `waitpid(-1, WNOHANG)` and hands each status to the registry; every other signal goes to
/// `onSignal`.
public final class SignalLoop: Sendable {
    private let registry: ChildRegistry
    private let onSignal: @Sendable (_ signal: Int32, _ sender: Int32) -> Void

    public init(registry: ChildRegistry, onSignal: @escaping @Sendable (Int32, Int32) -> Void) {
        self.registry = registry
        self.onSignal = onSignal
    }

    /// Runs forever on the calling thread (vigil's main thread).
    public func run() -> Never {
        var all = sigset_t()
        sigfillset(&all)
        while true {
            var sender: pid_t = 0
            let signal = cvigil_sigwait(&all, &sender)
            if signal <= 0 { continue }  // EINTR
            if signal == SIGCHLD {
                reapAll()
            } else {
                onSignal(signal, sender)
            }
        }
    }

    private func reapAll() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid == 0 { return }
            if pid < 0 {
                if errno == EINTR { continue }
                return  // ECHILD: nothing left
            }
            let termination: Termination
            if cvigil_wifexited(status) != 0 {
                termination = .exited(code: cvigil_wexitstatus(status))
            } else if cvigil_wifsignaled(status) != 0 {
                termination = .signaled(signal: cvigil_wtermsig(status))
            } else {
                continue  // stopped or continued; not an exit
            }
            registry.deliver(pid: pid, termination)
        }
    }
}
