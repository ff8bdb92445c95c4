#if canImport(Glibc)
import Glibc
#endif

/// The open-files limit. A front door holds two descriptors per client connection, and the
/// usual soft limit (1024) would refuse connections long before `VIGIL_PROXY_MAX_CONNECTIONS`;
/// the hard limit is what the container was granted, so vigil raises its soft limit towards it.
public enum ResourceLimits {
    /// Raises the soft limit to `wanted`, capped at the hard limit; never lowers it. The new soft
    /// limit, or nil when it cannot be read.
    @discardableResult
    public static func raiseOpenFiles(to wanted: Int) -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let target = min(rlim_t(max(wanted, 0)), limit.rlim_max)
        guard target > limit.rlim_cur else { return Int(clamping: limit.rlim_cur) }
        limit.rlim_cur = target
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Int(clamping: target)
    }
}
