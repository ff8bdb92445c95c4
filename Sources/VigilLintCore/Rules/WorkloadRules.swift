/// Rules on a workload whose pods run vigil: replicas, the rollout strategy, minReadySeconds,
/// progressDeadlineSeconds, PodDisruptionBudgets and Argo Rollouts blue-green.
enum WorkloadRules {
    static func check(
        _ workload: Workload, _ vigils: [VigilContainer], context: Context, into sink: inout FindingSink
    ) {
        let replicas = effectiveReplicas(workload, context)
        if workload.kind.isReplicated, replicas.count < 2 {
            sink.report(
                .replicasBelowTwo, at: workload.replicas?.mark ?? workload.meta.mark, field: "spec.replicas",
                "\(replicas.source) \(replicas.count): every eviction, node drain or crash is an outage",
                fix: replicas.source.hasPrefix("HPA") ? "minReplicas: 2 in the HPA" : "replicas: 2 or more")
        }
        if let minReady = workload.minReadySeconds, minReady.value > 0 {
            for vigil in vigils where vigil.configuration.minReady == .zero {
                sink.report(
                    .minReadySeconds, minReady, container: vigil.container.name,
                    "minReadySeconds \(minReady.value) does not keep traffic away from a new pod (only "
                        + "VIGIL_MIN_READY holds readiness back); VIGIL_MIN_READY is not set",
                    fix: "VIGIL_MIN_READY=\(minReady.value)s")
            }
        }
        if workload.kind == .deployment || workload.kind == .rollout {
            let deadline = workload.progressDeadlineSeconds?.value ?? 600
            let minReady = workload.minReadySeconds?.value ?? 0
            if deadline <= minReady {
                let field = workload.progressDeadlineSeconds ?? workload.minReadySeconds!
                sink.report(
                    .progressDeadline, at: field.mark, field: "spec.progressDeadlineSeconds",
                    "progressDeadlineSeconds \(deadline) is not above minReadySeconds \(minReady): the rollout "
                        + "fails before a pod can become available",
                    fix: "progressDeadlineSeconds: \(max(600, minReady + 60))")
            }
        }
        strategy(workload, replicas: replicas.count, into: &sink)
        if let blueGreen = workload.blueGreen { self.blueGreen(blueGreen, vigils, into: &sink) }
        if workload.kind.isReplicated, replicas.count >= 2, let pod = workload.pod,
            !context.budgets(for: pod.labels).contains(where: { selects($0, pod, workload.meta) })
        {
            sink.report(
                .pdbMissing, at: workload.meta.mark, field: pod.path.replacingSpec() + ".metadata.labels",
                "no PodDisruptionBudget selects the \(replicas.count) pods: a node drain may evict all at once",
                fix: "a PodDisruptionBudget with maxUnavailable: 1 and the pods' labels as selector")
        }
    }

    static func effectiveReplicas(_ workload: Workload, _ context: Context) -> (count: Int, source: String) {
        if let hpa = context.autoscaler(for: workload) {
            return (hpa.minReplicas, "HPA \(hpa.meta.name) minReplicas")
        }
        if let replicas = workload.replicas { return (replicas.value, "replicas") }
        return (1, "replicas (default)")
    }

    static func strategy(_ workload: Workload, replicas: Int, into sink: inout FindingSink) {
        let type = workload.strategyType?.value ?? "RollingUpdate"
        switch workload.kind {
        case .deployment where type == "Recreate":
            sink.report(
                .recreateStrategy, workload.strategyType!,
                "strategy Recreate stops every pod before the new ones start: each rollout is an outage",
                fix: "strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}")
        case .deployment where type == "RollingUpdate", .rollout where workload.isCanary:
            let rolling = workload.rolling
            let (surge, unavailable) = RolloutMath.deployment(
                replicas: replicas, maxSurge: rolling?.maxSurge?.value, maxUnavailable: rolling?.maxUnavailable?.value)
            guard unavailable > 0 else { return }
            let written = rolling?.maxUnavailable.map { "maxUnavailable \($0.value)" } ?? "maxUnavailable (default 25%)"
            sink.report(
                .rollingUnavailable, at: rolling?.maxUnavailable?.mark ?? rolling?.mark ?? workload.meta.mark,
                field: rolling?.maxUnavailable?.path ?? (rolling?.path ?? "spec.strategy") + ".maxUnavailable",
                "\(written) of \(replicas) replicas is \(unavailable) pod\(unavailable == 1 ? "" : "s") (maxSurge "
                    + "\(surge)): the rollout stops ready pods before their replacements are ready",
                fix: "maxUnavailable: 0, maxSurge: \(max(surge, 1))")
        case .daemonSet where type == "RollingUpdate":
            let rolling = workload.rolling
            let (surge, unavailable) = RolloutMath.daemonSet(
                maxSurge: rolling?.maxSurge?.value, maxUnavailable: rolling?.maxUnavailable?.value)
            guard unavailable > 0 else { return }
            sink.report(
                .rollingUnavailable, at: rolling?.maxUnavailable?.mark ?? rolling?.mark ?? workload.meta.mark,
                field: rolling?.maxUnavailable?.path ?? (rolling?.path ?? "spec.updateStrategy") + ".maxUnavailable",
                "the DaemonSet's rolling update (maxUnavailable \(unavailable), maxSurge \(surge)) stops the old "
                    + "pod on a node before the new one is ready",
                fix: "rollingUpdate: {maxSurge: 1, maxUnavailable: 0}")
        default:
            break
        }
    }

    static func blueGreen(_ blueGreen: BlueGreen, _ vigils: [VigilContainer], into sink: inout FindingSink) {
        let delay = blueGreen.scaleDownDelaySeconds?.value ?? 30
        if let longest = vigils.max(by: { $0.drainSeconds < $1.drainSeconds }), delay < longest.drainSeconds {
            sink.report(
                .blueGreenScaleDownDelay, at: blueGreen.scaleDownDelaySeconds?.mark ?? blueGreen.mark,
                field: blueGreen.path + ".scaleDownDelaySeconds", container: longest.container.name,
                "scaleDownDelaySeconds \(delay) is shorter than \(longest.drainName) \(longest.drainSeconds)s: "
                    + "old pods are scaled down while proxies may still send them requests",
                fix: "scaleDownDelaySeconds: \(longest.drainSeconds)")
        }
        if blueGreen.previewService == nil && !blueGreen.hasPrePromotionAnalysis {
            sink.report(
                .blueGreenUnverified, at: blueGreen.mark, field: blueGreen.path,
                "blueGreen has neither previewService nor prePromotionAnalysis: the new version is promoted "
                    + "without being asked a request",
                fix: "previewService: a Service for the new pods, or prePromotionAnalysis")
        }
    }

    static func selects(_ budget: DisruptionBudget, _ pod: PodSpec, _ meta: ObjectMeta) -> Bool {
        guard budget.meta.sameNamespace(as: meta) else { return false }
        // policy/v1: an empty selector selects every pod of the namespace; a missing one none.
        guard let selector = budget.selector else { return false }
        return selector.matches(pod.labels)
    }
}

extension String {
    /// `spec.template.spec` → `spec.template`: where the pod template's metadata lives.
    func replacingSpec() -> String {
        hasSuffix(".spec") ? String(dropLast(5)) : self
    }
}
