/// Maps YAML documents to the objects the rules know. Unknown kinds, documents that are not
/// mappings and objects without a kind are skipped, never an error.
public enum ObjectReader {
    public static let ignoreAnnotation = "vigil-lint/ignore"

    public static func read(_ document: LintNode, file: String) -> ObjectSet {
        var set = ObjectSet()
        read(document, file: file, into: &set, depth: 0)
        return set
    }

    static func read(_ node: LintNode, file: String, into set: inout ObjectSet, depth: Int) {
        guard let kind = node["kind"]?.string else { return }
        if kind == "List" || kind.hasSuffix("List"), depth < 4 {
            for item in node["items"]?.items ?? [] { read(item, file: file, into: &set, depth: depth + 1) }
            return
        }
        let meta = self.meta(of: node, kind: kind, file: file)
        let apiVersion = node["apiVersion"]?.string ?? ""
        if kind == "Rollout" && !apiVersion.hasPrefix("argoproj.io/") { return }
        if let workloadKind = WorkloadKind(rawValue: kind) {
            set.workloads.append(workload(node, kind: workloadKind, meta: meta))
            return
        }
        switch kind {
        case "Service": set.services.append(service(node, meta: meta))
        case "PodDisruptionBudget":
            let spec = node["spec"]
            set.budgets.append(
                DisruptionBudget(
                    meta: meta, selector: spec?["selector"].map(selector),
                    minAvailable: intOrPercent(spec, "minAvailable", "spec"),
                    maxUnavailable: intOrPercent(spec, "maxUnavailable", "spec")))
        case "HorizontalPodAutoscaler":
            let spec = node["spec"]
            let target = spec?["scaleTargetRef"]
            set.autoscalers.append(
                Autoscaler(
                    meta: meta, targetKind: target?["kind"]?.string ?? "", targetName: target?["name"]?.string ?? "",
                    minReplicas: spec?["minReplicas"]?.int ?? 1))
        default: break
        }
    }

    static func meta(of node: LintNode, kind: String, file: String) -> ObjectMeta {
        let metadata = node["metadata"]
        let name = metadata?["name"]?.string ?? metadata?["generateName"]?.string ?? ""
        var meta = ObjectMeta(
            file: file, kind: kind, name: name, namespace: metadata?["namespace"]?.string, mark: node.mark)
        meta.labels = metadata?["labels"]?.stringMap ?? [:]
        if let pair = metadata?["annotations"]?.pair(ignoreAnnotation), let text = pair.value.string {
            let rules = text.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            meta.ignored = Field(rules, mark: pair.keyMark, path: "metadata.annotations.\(ignoreAnnotation)")
        }
        return meta
    }

    static func workload(_ node: LintNode, kind: WorkloadKind, meta: ObjectMeta) -> Workload {
        var workload = Workload(meta: meta, kind: kind)
        let spec = node["spec"]
        workload.replicas = int(spec, "replicas", "spec")
        workload.minReadySeconds = int(spec, "minReadySeconds", "spec")
        workload.progressDeadlineSeconds = int(spec, "progressDeadlineSeconds", "spec")
        workload.selector = spec?["selector"].map(selector)
        switch kind {
        case .pod:
            workload.pod = spec.map { ContainerReader.podSpec($0, path: "spec", labels: meta.labels) }
        case .cronJob:
            let template = spec?["jobTemplate"]?["spec"]?["template"]
            workload.pod = template.map { podTemplate($0, path: "spec.jobTemplate.spec.template") }
        default:
            workload.pod = spec?["template"].map { podTemplate($0, path: "spec.template") }
        }
        switch kind {
        case .deployment: readStrategy(spec, key: "strategy", into: &workload)
        case .statefulSet, .daemonSet: readStrategy(spec, key: "updateStrategy", into: &workload)
        case .rollout: readRolloutStrategy(spec, into: &workload)
        default: break
        }
        return workload
    }

    static func podTemplate(_ template: LintNode, path: String) -> PodSpec {
        let labels = template["metadata"]?["labels"]?.stringMap ?? [:]
        guard let spec = template["spec"] else {
            return PodSpec(mark: template.mark, path: path + ".spec", labels: labels, containers: [])
        }
        return ContainerReader.podSpec(spec, path: path + ".spec", labels: labels)
    }

    static func readStrategy(_ spec: LintNode?, key: String, into workload: inout Workload) {
        guard let pair = spec?.pair(key) else { return }
        let path = "spec.\(key)"
        workload.strategyType = string(pair.value, "type", path)
        if let rolling = pair.value.pair("rollingUpdate") {
            workload.rolling = rollingParameters(rolling, path: path + ".rollingUpdate")
        } else if workload.strategyType?.value ?? "RollingUpdate" == "RollingUpdate" {
            workload.rolling = RollingParameters(mark: pair.keyMark, path: path)
        }
    }

    static func readRolloutStrategy(_ spec: LintNode?, into workload: inout Workload) {
        if spec?["workloadRef"] != nil && spec?["template"] == nil { workload.pod = nil }
        guard let strategy = spec?["strategy"] else { return }
        if let canary = strategy.pair("canary") {
            workload.isCanary = true
            workload.rolling = rollingParameters(canary, path: "spec.strategy.canary")
        }
        if let pair = strategy.pair("blueGreen") {
            let node = pair.value
            workload.blueGreen = BlueGreen(
                activeService: node["activeService"]?.string, previewService: node["previewService"]?.string,
                scaleDownDelaySeconds: int(node, "scaleDownDelaySeconds", "spec.strategy.blueGreen"),
                hasPrePromotionAnalysis: node["prePromotionAnalysis"] != nil, mark: pair.keyMark,
                path: "spec.strategy.blueGreen")
        }
    }

    static func rollingParameters(_ pair: LintNode.Pair, path: String) -> RollingParameters {
        RollingParameters(
            maxSurge: intOrPercent(pair.value, "maxSurge", path),
            maxUnavailable: intOrPercent(pair.value, "maxUnavailable", path), mark: pair.keyMark, path: path)
    }

    static func service(_ node: LintNode, meta: ObjectMeta) -> Service {
        let spec = node["spec"]
        var ports: [Service.Port] = []
        for (index, item) in (spec?["ports"]?.items ?? []).enumerated() {
            let path = "spec.ports[\(index)]"
            let target = item.pair("targetPort")
            ports.append(
                Service.Port(
                    port: item["port"]?.int, targetPort: target.flatMap { PortRef($0.value) },
                    mark: target?.keyMark ?? item.mark, path: target == nil ? path : path + ".targetPort"))
        }
        return Service(meta: meta, selector: spec?["selector"]?.stringMap ?? [:], ports: ports)
    }

    static func selector(_ node: LintNode) -> LabelSelector {
        var selector = LabelSelector(matchLabels: node["matchLabels"]?.stringMap ?? [:])
        for expression in node["matchExpressions"]?.items ?? [] {
            selector.expressions.append(
                LabelSelector.Requirement(
                    key: expression["key"]?.string ?? "", op: expression["operator"]?.string ?? "",
                    values: expression["values"]?.strings ?? []))
        }
        return selector
    }

    // MARK: - Fields

    static func int(_ node: LintNode?, _ key: String, _ path: String) -> Field<Int>? {
        guard let pair = node?.pair(key), let value = pair.value.int else { return nil }
        return Field(value, mark: pair.keyMark, path: "\(path).\(key)")
    }

    static func string(_ node: LintNode?, _ key: String, _ path: String) -> Field<String>? {
        guard let pair = node?.pair(key), let value = pair.value.string else { return nil }
        return Field(value, mark: pair.keyMark, path: "\(path).\(key)")
    }

    static func intOrPercent(_ node: LintNode?, _ key: String, _ path: String) -> Field<IntOrPercent>? {
        guard let pair = node?.pair(key), let value = IntOrPercent(pair.value) else { return nil }
        return Field(value, mark: pair.keyMark, path: "\(path).\(key)")
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var slice = Substring(self)
        while let first = slice.first, first == " " || first == "\t" { slice.removeFirst() }
        while let last = slice.last, last == " " || last == "\t" || last == "\r" { slice.removeLast() }
        return String(slice)
    }
}
