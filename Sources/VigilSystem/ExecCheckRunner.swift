import CVigilSystem
import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// The direct children of a process, from /proc (what a subreaper inherits when orphans appear).
public enum ProcessTable {
    /// nil when /proc is not there to ask.
    public static func children(of parent: Int32) -> [Int32]? {
        var pids = [pid_t](repeating: 0, count: 4096)
        let count = cvigil_children(parent, &pids, Int32(pids.count))
        return count < 0 ? nil : Array(pids.prefix(Int(count)))
    }
}

/// Runs one exec check's command so that nothing it starts outlives the run: vigil re-executes
/// itself as this runner, which is a child subreaper, so a daemon that leaves the command's
/// process group (`setsid`) is still re-parented to the runner and killed when the run ends.
///
/// The runner ends when the command ends, or on SIGTERM (vigil's timeout) or when vigil dies
/// (PR_SET_PDEATHSIG): it then SIGKILLs every descendant, reaps them all, and exits the way the
/// command did, so vigil reads the same exit code or signal.
public enum ExecCheckRunner {
    /// argv[1] that turns vigil into the runner (`vigil __vigil-exec-check -- COMMAND…`).
    public static let argument = "__vigil-exec-check"

    /// What vigil spawns to re-execute itself; nil without /proc (then checks run directly).
    public static var executable: String? {
        access("/proc/self/exe", X_OK) == 0 ? "/proc/self/exe" : nil
    }

    public static func arguments(for command: [String]) -> [String] {
        ["vigil", argument, "--"] + command
    }

    public static func run(_ command: [String], inherited: InheritedSignalState) -> Never {
        _ = cvigil_set_parent_death_signal(SIGTERM)
        ProcessControl.becomeChildSubreaper()
        let child: Int32
        switch Spawner.spawn(SpawnRequest(arguments: command), inherited: inherited) {
        case .success(let pid): child = pid
        case .failure(let error): exit(Termination.spawnFailed(errno: error.errno).exitCode)
        }
        var all = sigset_t()
        sigfillset(&all)
        var ended: Termination? = nil
        while ended == nil {
            var sender: pid_t = 0
            switch cvigil_sigwait(&all, &sender) {
            case SIGCHLD:
                while let (pid, termination) = reapOne(blocking: false) {
                    if pid == child { ended = termination }
                }
            case SIGTERM, SIGINT, SIGHUP:
                // Stopped from outside: the command's group goes first, while it surely exists.
                ProcessControl.send(SIGKILL, to: -child)
                ended = .signaled(signal: SIGKILL)
            default:
                continue
            }
        }
        clearDescendants()
        switch ended {
        case .exited(let code): exit(code)
        case .signaled(let signal): cvigil_die_like(signal)
        case .spawnFailed, nil: exit(126)
        }
    }

    /// SIGKILLs every child until none is left; orphans of the killed ones arrive as new children.
    static func clearDescendants() {
        while true {
            for pid in ProcessTable.children(of: getpid()) ?? [] { ProcessControl.send(SIGKILL, to: pid) }
            guard reapOne(blocking: true) != nil else { return }
        }
    }

    /// One reaped child; nil when none is left (or, not blocking, none has ended).
    private static func reapOne(blocking: Bool) -> (Int32, Termination)? {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, blocking ? 0 : WNOHANG)
            if pid < 0 && errno == EINTR { continue }
            guard pid > 0 else { return nil }
            if cvigil_wifexited(status) != 0 { return (pid, .exited(code: cvigil_wexitstatus(status))) }
            if cvigil_wifsignaled(status) != 0 { return (pid, .signaled(signal: cvigil_wtermsig(status))) }
        }
    }
}
