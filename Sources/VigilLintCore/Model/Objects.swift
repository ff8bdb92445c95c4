/// A value read from a manifest with where it was: the mark of its key (or of the item) and the
/// field path in the object (`spec.template.spec.terminationGracePeriodSeconds`).
public struct Field<Value: Sendable>: Sendable {
    public var value: Value
    public var mark: SourceMark
    public var path: String

    public init(_ value: Value, mark: SourceMark, path: String) {
        self.value = value
        self.mark = mark
        self.path = path
    }
}

/// Where an object came from and what it is called; every finding names it.
public struct ObjectMeta: Sendable {
    public var file: String
    public var kind: String
    public var name: String
    public var namespace: String?
    public var mark: SourceMark
    public var labels: [String: String]
    /// Rule IDs from the `vigil-lint/ignore` annotation, with the annotation's mark.
    public var ignored: Field<[String]>?

    public init(file: String, kind: String, name: String, namespace: String?, mark: SourceMark) {
        self.file = file
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.mark = mark
        self.labels = [:]
        self.ignored = nil
    }

    /// Namespaces match when equal or when either object leaves it to `kubectl -n`.
    public func sameNamespace(as other: ObjectMeta) -> Bool {
        namespace == nil || other.namespace == nil || namespace == other.namespace
    }
}

/// `25%` or `1`, as in `maxUnavailable`, `maxSurge`, `minAvailable`.
public enum IntOrPercent: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case percent(Int)

    public init?(_ node: LintNode) {
        guard let text = node.string else { return nil }
        if text.hasSuffix("%"), let value = Int(text.dropLast()), value >= 0 {
            self = .percent(value)
        } else if let value = Int(text), value >= 0 {
            self = .int(value)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .int(let value): "\(value)"
        case .percent(let value): "\(value)%"
        }
    }
}

/// `matchLabels` and `matchExpressions` (In, NotIn, Exists, DoesNotExist).
public struct LabelSelector: Sendable {
    public struct Requirement: Sendable {
        public var key: String
        public var op: String
        public var values: [String]
    }

    public var matchLabels: [String: String] = [:]
    public var expressions: [Requirement] = []

    public init(matchLabels: [String: String] = [:], expressions: [Requirement] = []) {
        self.matchLabels = matchLabels
        self.expressions = expressions
    }

    public var isEmpty: Bool { matchLabels.isEmpty && expressions.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        for (key, value) in matchLabels where labels[key] != value { return false }
        for requirement in expressions {
            let present = labels[requirement.key]
            switch requirement.op {
            case "In": if !(present.map { requirement.values.contains($0) } ?? false) { return false }
            case "NotIn": if present.map({ requirement.values.contains($0) }) ?? false { return false }
            case "Exists": if present == nil { return false }
            case "DoesNotExist": if present != nil { return false }
            default: return false
            }
        }
        return true
    }
}

public enum WorkloadKind: String, Sendable, CaseIterable {
    case deployment = "Deployment"
    case statefulSet = "StatefulSet"
    case daemonSet = "DaemonSet"
    case replicaSet = "ReplicaSet"
    case pod = "Pod"
    case job = "Job"
    case cronJob = "CronJob"
    case rollout = "Rollout"

    /// Serves traffic for as long as it runs: probes, PDBs and rollout rules apply.
    public var isService: Bool { self != .job && self != .cronJob }

    /// Has a `replicas` count (and so a rollout that can lose capacity).
    public var isReplicated: Bool { [.deployment, .statefulSet, .replicaSet, .rollout].contains(self) }
}

/// A RollingUpdate's surge and unavailability (Deployment, DaemonSet, Argo Rollouts canary).
public struct RollingParameters: Sendable {
    public var maxSurge: Field<IntOrPercent>?
    public var maxUnavailable: Field<IntOrPercent>?
    public var mark: SourceMark
    public var path: String
}

public struct BlueGreen: Sendable {
    public var activeService: String?
    public var previewService: String?
    public var scaleDownDelaySeconds: Field<Int>?
    public var hasPrePromotionAnalysis: Bool
    public var mark: SourceMark
    public var path: String
}

/// A workload: something with a pod template (or a Pod itself).
public struct Workload: Sendable {
    public var meta: ObjectMeta
    public var kind: WorkloadKind
    public var replicas: Field<Int>?
    public var minReadySeconds: Field<Int>?
    public var progressDeadlineSeconds: Field<Int>?
    /// `strategy.type` (Deployment), `updateStrategy.type` (StatefulSet, DaemonSet).
    public var strategyType: Field<String>?
    public var rolling: RollingParameters?
    public var blueGreen: BlueGreen?
    public var isCanary: Bool = false
    public var selector: LabelSelector?
    /// nil for an Argo Rollout with `workloadRef` (the template lives in another object).
    public var pod: PodSpec?

    public init(meta: ObjectMeta, kind: WorkloadKind) {
        self.meta = meta
        self.kind = kind
    }
}

public struct Service: Sendable {
    public struct Port: Sendable {
        public var port: Int?
        public var targetPort: PortRef?
        public var mark: SourceMark
        public var path: String
    }

    public var meta: ObjectMeta
    public var selector: [String: String]
    public var ports: [Port]
}

public struct DisruptionBudget: Sendable {
    public var meta: ObjectMeta
    public var selector: LabelSelector?
    public var minAvailable: Field<IntOrPercent>?
    public var maxUnavailable: Field<IntOrPercent>?
}

public struct Autoscaler: Sendable {
    public var meta: ObjectMeta
    public var targetKind: String
    public var targetName: String
    public var minReplicas: Int
}

/// Everything read from the inputs, in input order.
public struct ObjectSet: Sendable {
    public var workloads: [Workload] = []
    public var services: [Service] = []
    public var budgets: [DisruptionBudget] = []
    public var autoscalers: [Autoscaler] = []

    public init() {}

    public var count: Int { workloads.count + services.count + budgets.count + autoscalers.count }

    public mutating func append(contentsOf other: ObjectSet) {
        workloads += other.workloads
        services += other.services
        budgets += other.budgets
        autoscalers += other.autoscalers
    }
}
