/// vigil's own version: `vigil --version`, `/status` and `vigil_build_info`.
public enum VigilBuild {
    public static let version = "0.1.0"
}

/// Who is answering, for a blue-green pipeline and for monitoring: vigil's version, the app's
/// (`VIGIL_VERSION`), when vigil started, and how the app last ended.
public struct Identity: Sendable, Equatable {
    public var vigilVersion: String = VigilBuild.version
    public var appVersion: String? = nil
    /// vigil's start, wall clock (`process_start_time_seconds`).
    public var startedAtWallMilliseconds: Int64 = 0
    /// The exit code of the app's last run (128+N for signal N); nil while it never ended.
    public var lastExitCode: Int32? = nil

    public init(
        appVersion: String? = nil, startedAtWallMilliseconds: Int64 = 0, lastExitCode: Int32? = nil
    ) {
        self.appVersion = appVersion
        self.startedAtWallMilliseconds = startedAtWallMilliseconds
        self.lastExitCode = lastExitCode
    }
}
