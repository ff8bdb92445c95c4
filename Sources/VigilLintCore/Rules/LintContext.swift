import VigilCore

/// What every rule may look at: all objects (with indexes for the rules across objects), the
/// Dockerfiles' images, the ignored rules.
struct Context: Sendable {
    struct Image: Sendable {
        var input: DockerfileInput
        var image: DockerImage
        var problems: [ConfigurationProblem]

        /// A Dockerfile found in a directory covers the manifests in and below that directory.
        var directory: String {
            var parts = Substring(input.file)
            while parts.hasPrefix("./") { parts = parts.dropFirst(2) }
            guard let slash = parts.lastIndex(of: "/") else { return "" }
            return String(parts[..<slash])
        }

        func covers(_ file: String) -> Bool {
            var path = Substring(file)
            while path.hasPrefix("./") { path = path.dropFirst(2) }
            return directory.isEmpty ? !path.hasPrefix("/") && path != "-" : path.hasPrefix(directory + "/")
        }
    }

    let objects: ObjectSet
    let images: [Image]
    let ignored: Set<String>
    /// Budgets by `key=value` of their first matchLabels entry; the rest (expressions only,
    /// empty selectors) are candidates for every pod.
    let budgetsByLabel: [String: [Int]]
    let budgetsForAll: [Int]
    let autoscalers: [String: Autoscaler]

    init(objects: ObjectSet, images: [Image], ignored: Set<String>) {
        self.objects = objects
        self.images = images
        self.ignored = ignored
        var byLabel: [String: [Int]] = [:]
        var forAll: [Int] = []
        for (index, budget) in objects.budgets.enumerated() {
            if let first = budget.selector?.matchLabels.min(by: { $0.key < $1.key }) {
                byLabel["\(first.key)=\(first.value)", default: []].append(index)
            } else {
                forAll.append(index)
            }
        }
        budgetsByLabel = byLabel
        budgetsForAll = forAll
        var autoscalers: [String: Autoscaler] = [:]
        for hpa in objects.autoscalers { autoscalers["\(hpa.targetKind)/\(hpa.targetName)"] = hpa }
        self.autoscalers = autoscalers
    }

    /// The image of a container in FILE: the Dockerfile given for its name; else the only one
    /// given without a name; else the nearest Dockerfile found in a directory above FILE.
    func image(for container: String, in file: String) -> Image? {
        if let named = images.first(where: { $0.input.container == container }) { return named }
        let unnamed = images.filter { $0.input.container == nil && $0.image.mentionsVigil }
        let given = unnamed.filter(\.input.explicit)
        if !given.isEmpty { return given.count == 1 ? given[0] : nil }
        let covering = unnamed.filter { $0.covers(file) }
        guard let nearest = covering.max(by: { $0.directory.count < $1.directory.count }) else { return nil }
        return covering.filter { $0.directory.count == nearest.directory.count }.count == 1 ? nearest : nil
    }

    func budgets(for labels: [String: String]) -> [DisruptionBudget] {
        var indices = budgetsForAll
        for (key, value) in labels { indices += budgetsByLabel["\(key)=\(value)"] ?? [] }
        return indices.sorted().map { objects.budgets[$0] }
    }

    func autoscaler(for workload: Workload) -> Autoscaler? {
        guard let hpa = autoscalers["\(workload.kind.rawValue)/\(workload.meta.name)"],
            hpa.meta.sameNamespace(as: workload.meta)
        else { return nil }
        return hpa
    }

    func lintWorkloads(_ range: Range<Int>) -> (findings: [Finding], vigil: [ClusterRules.VigilWorkload]) {
        var findings: [Finding] = []
        var vigilWorkloads: [ClusterRules.VigilWorkload] = []
        for workload in objects.workloads[range] {
            var sink = FindingSink(meta: workload.meta, ignored: ignored)
            Linter.checkAnnotation(workload.meta, into: &sink)
            if let pod = workload.pod {
                let vigils = pod.containers.map { container in
                    let image = image(for: container.name, in: workload.meta.file)
                    return (VigilContainer(container, image: image?.image), image?.problems ?? [])
                }.filter { $0.0.underVigil }
                for (vigil, imageProblems) in vigils {
                    ContainerRules.environment(vigil, imageProblems: imageProblems, into: &sink)
                    ContainerRules.entrypoint(vigil, into: &sink)
                    ProbeRules.check(vigil, service: workload.kind.isService, into: &sink)
                    TerminationRules.check(vigil, pod: pod, into: &sink)
                }
                if !vigils.isEmpty {
                    let containers = vigils.map(\.0)
                    WorkloadRules.check(workload, containers, context: self, into: &sink)
                    let replicas = WorkloadRules.effectiveReplicas(workload, self).count
                    vigilWorkloads.append(.init(workload: workload, pod: pod, vigils: containers, replicas: replicas))
                }
            }
            findings += sink.findings
        }
        return (findings, vigilWorkloads)
    }

    func lintClusterObjects(_ vigilWorkloads: [ClusterRules.VigilWorkload]) -> [Finding] {
        var findings: [Finding] = []
        let index = ClusterRules.Index(vigilWorkloads)
        for budget in objects.budgets {
            var sink = FindingSink(meta: budget.meta, ignored: ignored)
            Linter.checkAnnotation(budget.meta, into: &sink)
            ClusterRules.budget(budget, index, into: &sink)
            findings += sink.findings
        }
        for service in objects.services {
            var sink = FindingSink(meta: service.meta, ignored: ignored)
            Linter.checkAnnotation(service.meta, into: &sink)
            ClusterRules.service(service, index, into: &sink)
            findings += sink.findings
        }
        for autoscaler in objects.autoscalers {
            var sink = FindingSink(meta: autoscaler.meta, ignored: ignored)
            Linter.checkAnnotation(autoscaler.meta, into: &sink)
            findings += sink.findings
        }
        return findings
    }
}
