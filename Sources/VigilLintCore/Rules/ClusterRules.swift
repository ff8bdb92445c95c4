/// Rules reported on the objects around the workloads: PodDisruptionBudgets and Services that
/// select pods running vigil.
enum ClusterRules {
    struct VigilWorkload: Sendable {
        let workload: Workload
        let pod: PodSpec
        let vigils: [VigilContainer]
        let replicas: Int
    }

    /// Workloads by each `key=value` of their pod labels, so that a selector is matched against
    /// the workloads that carry its first label only.
    struct Index {
        let workloads: [VigilWorkload]
        let byLabel: [String: [Int]]

        init(_ workloads: [VigilWorkload]) {
            self.workloads = workloads
            var byLabel: [String: [Int]] = [:]
            for (index, workload) in workloads.enumerated() {
                for (key, value) in workload.pod.labels { byLabel["\(key)=\(value)", default: []].append(index) }
            }
            self.byLabel = byLabel
        }

        func candidates(_ matchLabels: [String: String]) -> [VigilWorkload] {
            guard let first = matchLabels.min(by: { $0.key < $1.key }) else { return workloads }
            return (byLabel["\(first.key)=\(first.value)"] ?? []).map { workloads[$0] }
        }
    }

    static func budget(_ budget: DisruptionBudget, _ index: Index, into sink: inout FindingSink) {
        let candidates = index.candidates(budget.selector?.matchLabels ?? [:])
        let selected = candidates.filter { WorkloadRules.selects(budget, $0.pod, $0.workload.meta) }
        guard !selected.isEmpty else { return }
        let replicas = selected.map(\.replicas).reduce(0, +)
        guard
            RolloutMath.forbidsDisruption(
                minAvailable: budget.minAvailable?.value, maxUnavailable: budget.maxUnavailable?.value,
                replicas: replicas)
        else { return }
        let field = budget.maxUnavailable ?? budget.minAvailable!
        let key = budget.maxUnavailable == nil ? "minAvailable" : "maxUnavailable"
        let names = selected.map { "\($0.workload.kind.rawValue) \($0.workload.meta.name)" }.joined(separator: ", ")
        sink.report(
            .pdbForbidsDisruption, field,
            "\(key) \(field.value) allows no disruption of the \(replicas) pods of \(names): node drains block "
                + "until someone deletes the budget",
            fix: "maxUnavailable: 1")
    }

    static func service(_ service: Service, _ index: Index, into sink: inout FindingSink) {
        guard !service.selector.isEmpty else { return }
        let selected = index.candidates(service.selector).filter {
            $0.workload.meta.sameNamespace(as: service.meta)
                && LabelSelector(matchLabels: service.selector).matches($0.pod.labels)
        }
        for port in service.ports {
            guard let target = port.targetPort ?? port.port.map({ PortRef.number($0) }) else { continue }
            for workload in selected {
                guard
                    let vigil = workload.vigils.first(where: { vigil in
                        vigil.listenPort != nil && vigil.container.resolve(target) == vigil.listenPort
                    })
                else { continue }
                sink.report(
                    .serviceTargetsVigil, at: port.mark, field: port.path,
                    "targetPort \(target) is vigil's port \(vigil.listenPort!) in \(workload.workload.kind.rawValue) "
                        + "\(workload.workload.meta.name): the Service sends requests to the probe server",
                    fix: "targetPort: the app's port (kubelet and Prometheus reach vigil on the pod IP)")
                break
            }
        }
    }
}
