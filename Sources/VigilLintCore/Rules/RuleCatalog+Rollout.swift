// Rollout, cross-object, Argo Rollouts, Dockerfile and annotation rules.
extension Rule {
    static let minReadySeconds = Rule(
        "min-ready-seconds", .warning, "minReadySeconds without VIGIL_MIN_READY",
        why: "minReadySeconds only delays when a pod counts as available for the rollout; a Ready pod gets "
            + "Service traffic at once (kubernetes/kubernetes#103121). VIGIL_MIN_READY holds readiness back.",
        fix: "set VIGIL_MIN_READY to the same duration", tags: ["rollout"])
    static let replicasBelowTwo = Rule(
        "replicas-below-two", .warning, "fewer than two replicas",
        why: "with one replica every node drain, eviction or crash is an outage, whatever the probes do.",
        fix: "replicas: 2 or more (or an HPA with minReplicas: 2)", tags: ["rollout", "availability"])
    static let rollingUnavailable = Rule(
        "rolling-update-unavailable", .warning, "a rolling update may take ready pods away first",
        why: "an effective maxUnavailable above 0 stops old pods before their replacements are ready.",
        fix: "maxUnavailable: 0 with maxSurge: 1 (or a percentage)", tags: ["rollout"])
    static let recreateStrategy = Rule(
        "recreate-strategy", .error, "the Recreate strategy",
        why: "Recreate stops every old pod before the first new one starts: each rollout is an outage.",
        fix: "strategy: RollingUpdate with maxUnavailable: 0", tags: ["rollout"])
    static let progressDeadline = Rule(
        "progress-deadline", .error, "progressDeadlineSeconds not above minReadySeconds",
        why: "the rollout is declared failed before a single pod can become available.",
        fix: "progressDeadlineSeconds above minReadySeconds (default 600)", tags: ["rollout"])
    static let rollout = [minReadySeconds, replicasBelowTwo, rollingUnavailable, recreateStrategy, progressDeadline]

    static let pdbMissing = Rule(
        "pdb-missing", .warning, "no PodDisruptionBudget selects the pods",
        why: "a node drain may evict every replica at once.",
        fix: "add a PodDisruptionBudget with maxUnavailable: 1 selecting the pod labels", tags: ["availability"])
    static let pdbForbidsDisruption = Rule(
        "pdb-forbids-disruption", .warning, "a PodDisruptionBudget that allows no disruption",
        why: "maxUnavailable 0, or minAvailable equal to the replicas, blocks every node drain forever.",
        fix: "maxUnavailable: 1 (or minAvailable below the replica count)", tags: ["availability"])
    static let serviceTargetsVigil = Rule(
        "service-targets-vigil-port", .warning, "a Service sends traffic to vigil's port",
        why: "vigil's port answers probes and metrics, not the app's requests; it does not belong behind a Service.",
        fix: "targetPort: the app's port", tags: ["service"])
    static let cluster = [pdbMissing, pdbForbidsDisruption, serviceTargetsVigil]

    static let blueGreenScaleDownDelay = Rule(
        "bluegreen-scale-down-delay", .warning, "scaleDownDelaySeconds shorter than vigil's drain",
        why: "old pods are scaled down while proxies may still route to them; the delay should cover at least "
            + "the time vigil's drain allows them (VIGIL_DRAIN_DELAY).",
        fix: "scaleDownDelaySeconds of at least the drain (default 30)", tags: ["argo-rollouts"])
    static let blueGreenUnverified = Rule(
        "bluegreen-unverified", .info, "blue-green without a preview service or pre-promotion analysis",
        why: "the new version is promoted without ever being asked a request.",
        fix: "add previewService or prePromotionAnalysis", tags: ["argo-rollouts"])
    static let argo = [blueGreenScaleDownDelay, blueGreenUnverified]

    static let dockerfileEntrypoint = Rule(
        "dockerfile-entrypoint", .error, "the image's ENTRYPOINT is not vigil in exec form",
        why: "vigil must be PID 1: as CMD it is replaced by any `docker run IMAGE cmd` or Kubernetes `args:`.",
        fix: "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"] and the app as CMD", tags: ["dockerfile"])
    static let dockerfileSeparator = Rule(
        "dockerfile-entrypoint-separator", .warning, "vigil's ENTRYPOINT has no `--`",
        why: "without `--` an app whose name is a vigil command (status, probe, config, drain) runs that command.",
        fix: "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]", tags: ["dockerfile"])
    static let dockerfileHealthcheck = Rule(
        "dockerfile-healthcheck", .warning, "no HEALTHCHECK through `vigil probe`",
        why: "docker, podman and ECS see container health only through HEALTHCHECK; `vigil probe` answers it "
            + "from vigil's checks, including the drain.",
        fix: "HEALTHCHECK CMD [\"/usr/local/bin/vigil\", \"probe\", \"ready\"]", tags: ["dockerfile"])
    static let dockerfileExpose = Rule(
        "dockerfile-expose", .info, "vigil's port is not EXPOSEd",
        why: "EXPOSE documents the probe port for people and tools reading the image.",
        fix: "EXPOSE 7979 (or VIGIL_LISTEN's port)", tags: ["dockerfile"])
    static let dockerfile = [dockerfileEntrypoint, dockerfileSeparator, dockerfileHealthcheck, dockerfileExpose]

    static let ignoreUnknownID = Rule(
        "ignore-unknown-rule", .warning, "the vigil-lint/ignore annotation names an unknown rule",
        why: "a mistyped rule ID silences nothing.",
        fix: "use IDs from `vigil-lint rules`", tags: ["meta"])
    static let meta = [ignoreUnknownID]
}
