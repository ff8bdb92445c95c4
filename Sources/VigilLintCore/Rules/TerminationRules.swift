/// The grace period against vigil's drain and stop, and preStop hooks on top of the drain.
enum TerminationRules {
    /// vigil's documented margin on top of drain + stop (docs/kubernetes.md).
    static let marginSeconds = 5

    static func check(_ vigil: VigilContainer, pod: PodSpec, into sink: inout FindingSink) {
        let container = vigil.container
        let grace = pod.terminationGracePeriodSeconds
        let graceSeconds = grace?.value ?? 30
        let preStop = container.preStop?.sleepSeconds ?? 0
        let drain = vigil.drainSeconds
        let needed = preStop + drain + vigil.stopSeconds
        var parts: [String] = []
        if preStop > 0 { parts.append("preStop sleep \(preStop)s") }
        parts.append("\(vigil.drainName) \(drain)s")
        parts.append("VIGIL_STOP_TIMEOUT \(vigil.stopSeconds)s")
        let sum = parts.joined(separator: " + ") + " = \(needed)s"
        let graceText = "terminationGracePeriodSeconds \(graceSeconds)" + (grace == nil ? " (the default)" : "")
        let mark = grace?.mark ?? pod.mark
        let field = pod.path + ".terminationGracePeriodSeconds"
        if graceSeconds < needed {
            sink.report(
                .graceTooShort, at: mark, field: field, container: container.name,
                "\(graceText) is shorter than \(sum): kubelet SIGKILLs the container before vigil has drained "
                    + "and stopped the app",
                fix: "terminationGracePeriodSeconds: \(needed + marginSeconds)")
        } else if graceSeconds < needed + marginSeconds {
            sink.report(
                .graceNoMargin, at: mark, field: field, container: container.name,
                "\(graceText) leaves less than \(marginSeconds)s over \(sum)",
                fix: "terminationGracePeriodSeconds: \(needed + marginSeconds)")
        }
        if let hook = container.preStop, drain > 0 {
            let what = hook.sleepSeconds.map { "preStop hook (sleep \($0)s)" } ?? "preStop hook"
            sink.report(
                .preStopAndDrain, at: hook.mark, field: hook.path, container: container.name,
                "\(what) runs before kubelet sends SIGTERM, so vigil's drain (\(vigil.drainName) \(drain)s) "
                    + "starts only after it: the pod waits twice",
                fix: "remove the preStop hook (vigil's drain fails readiness while the app serves), "
                    + "or set VIGIL_DRAIN_DELAY=0s")
        }
    }
}

/// The Deployment controller's arithmetic for a rolling update (and Argo Rollouts' canary, which
/// copies it): maxSurge rounds up, maxUnavailable rounds down, and when both come to 0 the
/// controller uses maxUnavailable 1.
public enum RolloutMath {
    public static func scaled(_ value: IntOrPercent, of total: Int, roundUp: Bool) -> Int {
        switch value {
        case .int(let number): return number
        case .percent(let percent):
            let product = percent * total
            return roundUp ? (product + 99) / 100 : product / 100
        }
    }

    /// (maxSurge, maxUnavailable) in pods for `replicas`, with the Deployment defaults of 25%.
    public static func deployment(
        replicas: Int, maxSurge: IntOrPercent?, maxUnavailable: IntOrPercent?
    ) -> (
        surge: Int, unavailable: Int
    ) {
        let surge = scaled(maxSurge ?? .percent(25), of: replicas, roundUp: true)
        var unavailable = scaled(maxUnavailable ?? .percent(25), of: replicas, roundUp: false)
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    /// A DaemonSet's (defaults: maxUnavailable 1, maxSurge 0; percentages of the nodes, rounded
    /// up, so any percentage above 0% is at least one pod).
    public static func daemonSet(
        maxSurge: IntOrPercent?, maxUnavailable: IntOrPercent?
    ) -> (
        surge: Int, unavailable: Int
    ) {
        func atLeastOne(_ value: IntOrPercent) -> Int {
            if case .percent(let percent) = value { return percent > 0 ? 1 : 0 }
            return scaled(value, of: 1, roundUp: true)
        }
        return (atLeastOne(maxSurge ?? .int(0)), atLeastOne(maxUnavailable ?? .int(1)))
    }

    /// Whether a PodDisruptionBudget allows no voluntary disruption at all for `replicas` pods.
    public static func forbidsDisruption(
        minAvailable: IntOrPercent?, maxUnavailable: IntOrPercent?, replicas: Int?
    ) -> Bool {
        if let maxUnavailable { return scaled(maxUnavailable, of: replicas ?? 1, roundUp: true) == 0 }
        guard let minAvailable else { return false }
        if case .percent(let percent) = minAvailable { return percent >= 100 }
        guard let replicas else { return false }
        return scaled(minAvailable, of: replicas, roundUp: true) >= replicas
    }
}
