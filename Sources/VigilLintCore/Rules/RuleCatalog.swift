// The rules, grouped as docs/gitops.md lists them. IDs never change once released.
extension Rule {
    static let envUnknown = Rule(
        "vigil-env-unknown", .error, "a VIGIL_* name the agent does not know",
        why: "vigil refuses unknown VIGIL_* names and exits 2 before the app starts: the pod crash-loops.",
        fix: "rename it to the setting the message suggests, or remove it", tags: ["configuration"])
    static let envInvalid = Rule(
        "vigil-env-invalid", .error, "a VIGIL_* value the agent rejects",
        why: "vigil checks every VIGIL_* value at start and exits 2 on a bad one: the pod crash-loops.",
        fix: "use a value like the example in the message", tags: ["configuration"])
    static let envUnchecked = Rule(
        "vigil-env-unchecked", .info, "a VIGIL_* value that cannot be checked before the deploy",
        why: "valueFrom, envFrom and $(VAR) values are only known in the cluster; vigil checks them at start.",
        fix: "write the value in the manifest, or run `vigil config --check` in the image", tags: ["configuration"])
    static let configuration = [envUnknown, envInvalid, envUnchecked]

    static let commandBypassesVigil = Rule(
        "command-bypasses-vigil", .error, "`command:` replaces the image's vigil ENTRYPOINT",
        why: "`command:` replaces ENTRYPOINT, so the app runs as PID 1 without vigil: no drain, no probes.",
        fix: "move the words to `args:` (they replace CMD), or start the command with vigil --",
        tags: ["entrypoint"])
    static let shellWrapsVigil = Rule(
        "shell-wraps-vigil", .error, "a shell runs vigil (`sh -c`, shell form)",
        why: "the shell is PID 1: it does not pass SIGTERM on to vigil, so the drain never starts and the pod is "
            + "SIGKILLed at the end of its grace period.",
        fix: "use exec form (`[\"/usr/local/bin/vigil\", \"--\", …]`) or `exec vigil` in the script",
        tags: ["entrypoint"])
    static let entrypoint = [commandBypassesVigil, shellWrapsVigil]

    static let readinessMissing = Rule(
        "readiness-probe-missing", .error, "no readiness probe",
        why: "without one a pod gets traffic as soon as it runs, and a rollout does not wait for it.",
        fix: "add a readinessProbe: httpGet /readyz on vigil's port", tags: ["probes"])
    static let livenessMissing = Rule(
        "liveness-probe-missing", .warning, "no liveness probe",
        why: "a hung app (deadlock, exhausted pool) is never restarted.",
        fix: "add a livenessProbe: httpGet /livez on vigil's port", tags: ["probes"])
    static let startupMissing = Rule(
        "startup-probe-missing", .warning, "liveness can restart a slow start",
        why: "a check feeds liveness, so an app that is not up yet fails /livez; without a startupProbe kubelet "
            + "counts that against liveness and restarts the container mid-start.",
        fix: "add a startupProbe: httpGet /startupz on vigil's port", tags: ["probes"])
    static let probeNotOnVigil = Rule(
        "probe-not-on-vigil", .error, "a probe that does not ask vigil",
        why: "a probe on the app's port or another command bypasses vigil's checks, drain and min-ready.",
        fix: "probe vigil's port (VIGIL_LISTEN, default 7979) by number or port name, or exec `vigil probe`",
        tags: ["probes"])
    static let probeWrongPath = Rule(
        "probe-wrong-path", .warning, "a probe on vigil's port but not on its own path",
        why: "each probe has its own answer: /livez for liveness, /readyz for readiness, /startupz for startup.",
        fix: "use the probe's own path, or `vigil probe live|ready|startup`", tags: ["probes"])
    static let livenessOnReadyz = Rule(
        "liveness-on-readyz", .error, "the liveness probe asks /readyz",
        why: "/readyz fails during every drain and whenever a dependency is down: kubelet restarts pods that "
            + "are stopping or merely not ready, all replicas at once.",
        fix: "point livenessProbe at /livez", tags: ["probes", "drain"])
    static let readinessOnLivez = Rule(
        "readiness-on-livez", .error, "the readiness probe asks /livez",
        why: "/livez keeps passing during the drain, so load balancers that follow readiness never see it.",
        fix: "point readinessProbe at /readyz", tags: ["probes", "drain"])
    static let probesIdentical = Rule(
        "probes-identical", .warning, "liveness and readiness probes are identical",
        why: "the same question on the same schedule: a failure both restarts the pod and takes it out of "
            + "rotation, and the drain restarts it.",
        fix: "liveness on /livez, readiness on /readyz, each with its own timing", tags: ["probes"])
    static let listenUnreachable = Rule(
        "vigil-listen-unreachable", .error, "kubelet cannot reach vigil's probe server",
        why: "VIGIL_LISTEN is off or bound to loopback, but kubelet connects to the pod IP: every probe fails.",
        fix: "set VIGIL_LISTEN=:7979 (or remove it), or probe with exec `vigil probe`", tags: ["probes"])
    static let probes = [
        readinessMissing, livenessMissing, startupMissing, probeNotOnVigil, probeWrongPath, livenessOnReadyz,
        readinessOnLivez, probesIdentical, listenUnreachable,
    ]

    static let graceTooShort = Rule(
        "grace-period-too-short", .error, "terminationGracePeriodSeconds is shorter than the drain and the stop",
        why: "kubelet SIGKILLs the container when the grace period ends: mid-drain or mid-shutdown, requests in "
            + "flight are cut.",
        fix: "raise terminationGracePeriodSeconds to preStop + drain + VIGIL_STOP_TIMEOUT + 5s, or lower them",
        tags: ["termination", "drain"])
    static let graceNoMargin = Rule(
        "grace-period-no-margin", .warning, "terminationGracePeriodSeconds leaves no margin",
        why: "the grace period only just covers the drain and the stop; kubelet's own latency eats the rest.",
        fix: "add 5 seconds to terminationGracePeriodSeconds", tags: ["termination"])
    static let preStopAndDrain = Rule(
        "prestop-and-drain", .warning, "a preStop hook on top of vigil's drain",
        why: "kubelet sends SIGTERM only after preStop returns, so vigil's drain starts late and the pod waits "
            + "twice inside the same grace period.",
        fix: "remove the preStop sleep (vigil's VIGIL_DRAIN_DELAY is the sleep), or set VIGIL_DRAIN_DELAY=0s",
        tags: ["termination", "drain"])
    static let stopSignalNotDrained = Rule(
        "stopsignal-not-drained", .error, "the stop signal is not one vigil drains on",
        why: "kubelet and docker stop send the image's STOPSIGNAL; vigil drains only on VIGIL_SHUTDOWN_SIGNALS "
            + "(SIGTERM by default) and forwards any other signal to the app at once.",
        fix: "STOPSIGNAL SIGTERM (or add the signal to VIGIL_SHUTDOWN_SIGNALS)", tags: ["termination", "drain"])
    static let termination = [graceTooShort, graceNoMargin, preStopAndDrain, stopSignalNotDrained]
}
