/// A probe's or a Service's port: a number or the name of a container port.
public enum PortRef: Sendable, Equatable, CustomStringConvertible {
    case number(Int)
    case name(String)

    public init?(_ node: LintNode) {
        guard let text = node.string, !text.isEmpty else { return nil }
        if let number = Int(text) { self = .number(number) } else { self = .name(text) }
    }

    public var description: String {
        switch self {
        case .number(let number): "\(number)"
        case .name(let name): name
        }
    }
}

public struct ProbeSpec: Sendable {
    public enum Handler: Sendable, Equatable {
        case httpGet(path: String, port: PortRef?, https: Bool)
        case tcpSocket(port: PortRef?)
        case grpc(port: Int?)
        case exec(command: [String])
        case missing
    }

    public var handler: Handler
    /// The mark and path of the handler's most telling field: httpGet.path, exec.command, ...
    public var handlerField: Field<String>
    public var portField: Field<String>?
    public var initialDelaySeconds: Int
    public var periodSeconds: Int
    public var timeoutSeconds: Int
    public var failureThreshold: Int
    public var successThreshold: Int
    public var mark: SourceMark
    public var path: String

    public init(handler: Handler, handlerField: Field<String>, mark: SourceMark, path: String) {
        self.handler = handler
        self.handlerField = handlerField
        self.initialDelaySeconds = 0
        self.periodSeconds = 10
        self.timeoutSeconds = 1
        self.failureThreshold = 3
        self.successThreshold = 1
        self.mark = mark
        self.path = path
    }

    /// Same handler and same timing: kubelet would ask the same question on the same schedule.
    public func isIdentical(to other: ProbeSpec) -> Bool {
        handler == other.handler && initialDelaySeconds == other.initialDelaySeconds
            && periodSeconds == other.periodSeconds && timeoutSeconds == other.timeoutSeconds
            && failureThreshold == other.failureThreshold && successThreshold == other.successThreshold
    }
}

public struct EnvEntry: Sendable {
    public var name: String
    /// nil with `valueFrom`.
    public var value: String?
    public var nameMark: SourceMark
    public var valueMark: SourceMark
    public var path: String
}

public struct ContainerPort: Sendable {
    public var name: String?
    public var number: Int
}

/// A `lifecycle.preStop` hook; `sleepSeconds` when its duration can be read (`sleep:`, or an exec
/// of `sleep N`, also through `sh -c`).
public struct PreStopHook: Sendable {
    public var sleepSeconds: Int?
    public var mark: SourceMark
    public var path: String
}

public struct Container: Sendable {
    public var name: String
    public var index: Int
    public var mark: SourceMark
    public var path: String
    public var image: String?
    public var command: Field<[String]>?
    public var args: Field<[String]>?
    public var env: [EnvEntry] = []
    /// `envFrom` sources: every VIGIL_* in them is invisible here.
    public var envFrom: Field<Int>?
    public var envMark: SourceMark?
    public var ports: [ContainerPort] = []
    public var liveness: ProbeSpec?
    public var readiness: ProbeSpec?
    public var startup: ProbeSpec?
    public var preStop: PreStopHook?
    /// `lifecycle.stopSignal` (Kubernetes 1.33+, ContainerStopSignals).
    public var stopSignal: Field<String>?

    public init(name: String, index: Int, mark: SourceMark, path: String) {
        self.name = name
        self.index = index
        self.mark = mark
        self.path = path
    }

    /// The number behind a port reference: a number as it is, a name through `ports`.
    public func resolve(_ port: PortRef) -> Int? {
        switch port {
        case .number(let number): number
        case .name(let name): ports.first { $0.name == name }?.number
        }
    }
}

public struct PodSpec: Sendable {
    public var mark: SourceMark
    /// `spec.template.spec` for most workloads, `spec` for a Pod.
    public var path: String
    public var labels: [String: String]
    public var terminationGracePeriodSeconds: Field<Int>?
    public var containers: [Container]

    public init(mark: SourceMark, path: String, labels: [String: String], containers: [Container]) {
        self.mark = mark
        self.path = path
        self.labels = labels
        self.containers = containers
    }
}
