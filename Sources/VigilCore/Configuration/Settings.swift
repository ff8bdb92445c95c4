/// Every `VIGIL_*` variable vigil knows: the whole contract. The parser, `vigil config`, the
/// typo suggestions and docs/configuration.md all follow this table (a unit test checks the docs).
public struct Setting: Sendable, Equatable {
    public let name: String
    public let defaultValue: String
    public let example: String
    public let summary: String
    /// Never printed: not in errors, not in `vigil config`, not in logs.
    public let isSecret: Bool

    init(_ name: String, default defaultValue: String, example: String, _ summary: String, secret: Bool = false) {
        self.name = name
        self.defaultValue = defaultValue
        self.example = example
        self.summary = summary
        self.isSecret = secret
    }
}

public enum Settings {
    public static let checkPrefix = "VIGIL_CHECK_"

    public static let global: [Setting] = [
        Setting(
            "VIGIL_LISTEN", default: ":7979", example: ":7979",
            "Probe server address: `:port`, `host:port`, `[v6]:port`, or `off`."),
        Setting(
            "VIGIL_SIGNAL_TARGET", default: "group", example: "child",
            "Where forwarded signals go: the app's process `group`, or the `child` alone."),
        Setting(
            "VIGIL_STOP_SIGNAL", default: "SIGTERM", example: "SIGQUIT",
            "Signal that asks the app to stop (name or number)."),
        Setting(
            "VIGIL_SHUTDOWN_SIGNALS", default: "SIGTERM", example: "SIGTERM,SIGQUIT",
            "Signals that start the stop sequence (drain, stop signal, kill); any other is forwarded."),
        Setting(
            "VIGIL_STOP_TIMEOUT", default: "20s", example: "20s",
            "How long the app may take to stop before its group is SIGKILLed."),
        Setting(
            "VIGIL_LOG_FORMAT", default: "text", example: "json", "vigil's own log lines on stderr: `text` or `json`."),
        Setting("VIGIL_LOG_LEVEL", default: "info", example: "debug", "`debug`, `info`, `warn` or `error`."),
        Setting(
            "VIGIL_MIN_READY", default: "0s", example: "10s",
            "Readiness turns true only after every readiness condition held this long."),
        Setting(
            "VIGIL_DRAIN_DELAY", default: "5s", example: "5s",
            "After SIGTERM: fail readiness and keep the app serving this long before stopping it."),
        Setting(
            "VIGIL_DRAIN_PORTS", default: "", example: "8080,8443",
            "After the delay, also wait while requests are in flight on these ports (not for idle connections)."),
        Setting(
            "VIGIL_DRAIN_TIMEOUT", default: "30s", example: "30s",
            "Upper bound of the connection-aware drain, counted from SIGTERM."),
        Setting(
            "VIGIL_RESTART", default: "never", example: "on-failure",
            "Restart the app in place: `never`, `on-failure` or `always`."),
        Setting(
            "VIGIL_RESTART_BACKOFF_MAX", default: "30s", example: "30s", "Restart backoff doubles from 1s up to this."),
        Setting(
            "VIGIL_RESTART_LIMIT", default: "0", example: "5",
            "At most this many in-place restarts within VIGIL_RESTART_WINDOW, then vigil exits (0: no limit)."),
        Setting(
            "VIGIL_RESTART_WINDOW", default: "5m", example: "10m", "The window VIGIL_RESTART_LIMIT counts in."),
        Setting(
            "VIGIL_RESTART_UNHEALTHY", default: "false", example: "true",
            "Restart the app in place when liveness fails."),
        Setting(
            "VIGIL_DETAILS", default: "local", example: "always",
            "Who sees failure reasons: `local` (loopback callers), `always` or `never`."),
        Setting(
            "VIGIL_ADMIN", default: "local", example: "token",
            "Who may POST/DELETE /drain: `local`, `token` or `off`."),
        Setting(
            "VIGIL_ADMIN_TOKEN", default: "", example: "s3cret-token",
            "Bearer token for the admin endpoints when VIGIL_ADMIN=token.", secret: true),
        Setting(
            "VIGIL_VERSION", default: "", example: "v1.4.2",
            "The app's version (free text, e.g. the image tag): in /status, its JSON and vigil_build_info."),
        Setting(
            "VIGIL_NOTIFY", default: "false", example: "true",
            "Give the app NOTIFY_SOCKET: READY=1 completes startup and readiness, as under systemd."),
        Setting(
            "VIGIL_NOTIFY_WATCHDOG", default: "0s", example: "30s",
            "With VIGIL_NOTIFY: liveness fails without a WATCHDOG=1 within this (WATCHDOG_USEC); 0s: off."),
        Setting(
            "VIGIL_NOTIFY_FD", default: "", example: "3",
            "s6-style readiness: the app writes a newline to this descriptor (3-1023) when it is ready."),
        Setting(
            "VIGIL_USER", default: "", example: "1000:1000",
            "Run the app, exec checks and vigil itself (after binding) as `name|uid[:group|gid]`."),
        Setting(
            "VIGIL_PROXY_LISTEN", default: "off", example: ":8080",
            "The front door: vigil accepts the app's clients here and forwards them to VIGIL_PROXY_UPSTREAM."),
        Setting(
            "VIGIL_PROXY_UPSTREAM", default: "", example: "127.0.0.1:8081",
            "Where the app listens: `host:port`, `[v6]:port` or `unix:///path`."),
        Setting(
            "VIGIL_PROXY_MODE", default: "http", example: "tcp",
            "`http` (requests re-framed and drained one by one) or `tcp` (a byte tunnel per connection)."),
        Setting(
            "VIGIL_PROXY_TIMEOUT", default: "60s", example: "30s",
            "The app must answer within this (else 504), and be back within this during a restart."),
        Setting(
            "VIGIL_PROXY_HEADER_TIMEOUT", default: "10s", example: "10s",
            "A client must send a request's headers within this (slow clients are closed)."),
        Setting(
            "VIGIL_PROXY_IDLE_TIMEOUT", default: "60s", example: "60s",
            "An idle keep-alive client connection is closed after this."),
        Setting(
            "VIGIL_PROXY_FORWARDED", default: "true", example: "false",
            "Append X-Forwarded-For and X-Forwarded-Proto to forwarded requests."),
        Setting(
            "VIGIL_PROXY_MAX_CONNECTIONS", default: "10000", example: "10000",
            "Client connections at once; at the limit the longest-idle one is closed to make room."),
        Setting(
            "VIGIL_PROXY_QUEUE", default: "1000", example: "1000",
            "Requests that may wait for the app while it restarts; more get 503."),
    ]

    /// `VIGIL_CHECK_<NAME>_<OPTION>`; `name` holds the option part.
    public static let checkOptions: [Setting] = [
        Setting(
            "PROBES", default: "ready", example: "ready,live",
            "Which probes the check feeds: `startup`, `live`, `ready`."),
        Setting("INTERVAL", default: "5s", example: "5s", "Time between runs."),
        Setting(
            "START_INTERVAL", default: "", example: "1s",
            "Time between runs until the check first passes (Docker's --start-interval)."),
        Setting(
            "TIMEOUT", default: "1s", example: "1s", "A run taking longer fails (exec checks: the group is killed)."),
        Setting("FAILURES", default: "3", example: "3", "Consecutive failures that turn the check failing."),
        Setting("SUCCESSES", default: "1", example: "1", "Consecutive successes that turn it passing again."),
        Setting("DELAY", default: "0s", example: "10s", "Wait before the first run."),
        Setting("EXPECT_STATUS", default: "200-399", example: "200-299,302", "http/https: statuses that pass."),
        Setting("EXPECT_BODY", default: "", example: "UP", "http/https: the body must contain this text."),
        Setting("MAX_AGE", default: "", example: "30s", "file: the file must have been modified within this."),
    ]

    public static func setting(named name: String) -> Setting? {
        global.first { $0.name == name }
    }
}
