import VigilCore

#if canImport(Glibc)
import Glibc
#endif

/// `VIGIL_USER`: who vigil, the app and exec checks run as. Resolved before anything starts (a
/// problem is a configuration error); vigil drops to it after binding its listeners, so the app
/// and every exec check, which vigil starts afterwards, inherit it.
public enum Privileges {
    /// The user from /etc/passwd and /etc/group, read directly (no NSS in a static binary), once
    /// it is known that vigil may switch to it.
    public static func prepare(_ spec: UserSpec) -> Result<ResolvedUser, UserProblem> {
        let passwd = Files.read("/etc/passwd").map { String(decoding: $0, as: UTF8.self) } ?? ""
        let group = Files.read("/etc/group").map { String(decoding: $0, as: UTF8.self) } ?? ""
        let user: ResolvedUser
        switch Accounts.resolve(spec, passwd: passwd, group: group) {
        case .success(let resolved): user = resolved
        case .failure(let problem): return .failure(problem)
        }
        guard needsSwitch(to: user) else { return .success(user) }
        // Without /proc, being root is all vigil can tell.
        let status = Files.read("/proc/self/status").map { String(decoding: $0, as: UTF8.self) }
        guard geteuid() == 0, status.map(Accounts.canSwitchUsers(procStatus:)) ?? true else {
            return .failure(
                UserProblem(
                    message:
                        "vigil runs as uid \(geteuid()) gid \(getegid()) and may not switch to uid \(user.uid) "
                        + "gid \(user.gid) (start it as root, with CAP_SETUID and CAP_SETGID)"))
        }
        return .success(user)
    }

    /// Whether vigil is not that user already (real and effective ids).
    public static func needsSwitch(to user: ResolvedUser) -> Bool {
        getuid() != user.uid || geteuid() != user.uid || getgid() != user.gid || getegid() != user.gid
    }

    /// setgroups, setgid, setuid (glibc applies each to every thread), then a check that root
    /// cannot be regained.
    public static func drop(to user: ResolvedUser) throws(SystemError) {
        let groups = user.groups.map { gid_t($0) }
        try retryingEINTR("setgroups") { groups.withUnsafeBufferPointer { setgroups($0.count, $0.baseAddress) } }
        try retryingEINTR("setgid") { setgid(user.gid) }
        try retryingEINTR("setuid") { setuid(user.uid) }
        if user.uid != 0 && setuid(0) == 0 { throw SystemError("setuid(0) after the drop", errno: EPERM) }
    }
}
