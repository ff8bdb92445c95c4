public enum SignalTarget: String, Sendable { case group, child }
public enum LogFormat: String, Sendable { case text, json }
public enum LogLevelSetting: String, Sendable, Comparable {
    case debug, info, warn, error
    public static func < (a: Self, b: Self) -> Bool {
        let order: [Self] = [.debug, .info, .warn, .error]
        return order.firstIndex(of: a)! < order.firstIndex(of: b)!
    }
}
public enum RestartPolicy: String, Sendable {
    case never
    case onFailure = "on-failure"
    case always
}
public enum DetailsPolicy: String, Sendable { case local, always, never }
public enum AdminPolicy: String, Sendable { case local, token, off }

/// Everything vigil was told through its environment, validated.
public struct Configuration: Sendable {
    /// nil when `VIGIL_LISTEN=off`; an empty host means every interface.
    public var listen: HostPort? = HostPort(host: "", port: 7979)
    public var signalTarget: SignalTarget = .group
    public var stopSignal: Int32 = 15
    /// The signals that start the stop sequence; any other is forwarded to the app.
    public var shutdownSignals: [Int32] = [15]
    public var stopTimeout: Duration = .seconds(20)
    public var logFormat: LogFormat = .text
    public var logLevel: LogLevelSetting = .info
    public var checks: [CheckSpec] = []
    public var minReady: Duration = .zero
    public var drainDelay: Duration = .seconds(5)
    public var drainPorts: [Int] = []
    public var drainTimeout: Duration = .seconds(30)
    public var restart: RestartPolicy = .never
    public var restartBackoffMax: Duration = .seconds(30)
    public var restartUnhealthy: Bool = false
    /// In-place restarts allowed within `restartWindow`; 0 means no limit.
    public var restartLimit: Int = 0
    public var restartWindow: Duration = .seconds(300)
    public var details: DetailsPolicy = .local
    public var admin: AdminPolicy = .local
    public var adminToken: String? = nil
    /// `VIGIL_VERSION`: the app's version as the pipeline names it (blue-green identity).
    public var version: String? = nil
    /// `VIGIL_NOTIFY`: give the app `NOTIFY_SOCKET` and hear its sd_notify messages.
    public var notify: Bool = false
    /// `VIGIL_NOTIFY_WATCHDOG`: liveness fails without a `WATCHDOG=1` within this; nil: off.
    public var notifyWatchdog: Duration? = nil
    /// `VIGIL_NOTIFY_FD`: the app's descriptor for s6-style readiness (a newline); nil: none.
    public var notifyFD: Int32? = nil
    /// Whether the app announces its readiness itself (sd_notify or a readiness descriptor).
    public var announcesReadiness: Bool { notify || notifyFD != nil }
    /// `VIGIL_USER`, as written; resolved against /etc/passwd and /etc/group before the start.
    public var user: UserSpec? = nil
    /// `VIGIL_PROXY_*`: the front door; nil when `VIGIL_PROXY_LISTEN` is not set.
    public var proxy: ProxyConfiguration? = nil

    public init() {}

    /// Kubernetes' default `terminationGracePeriodSeconds`.
    public static let kubernetesDefaultGracePeriod: Duration = .seconds(30)

    /// Whether the drain waits for connections after its delay: on the drain ports, or through
    /// the front door until no request is in flight and no tunnel is open.
    public var drainWatchesConnections: Bool { !drainPorts.isEmpty || proxy != nil }

    /// The longest a SIGTERM-initiated stop can take before vigil exits.
    public var worstCaseStopDuration: Duration {
        let drain = drainWatchesConnections ? max(drainDelay, drainTimeout) : drainDelay
        return drain + stopTimeout
    }
}

/// Where an effective setting's value came from, as `vigil config` shows it.
public enum SettingSource: String, Sendable { case environment, `default` }

public struct EffectiveSetting: Sendable, Equatable {
    public var name: String
    /// Already masked for secrets.
    public var value: String
    public var source: SettingSource
}
