import VigilCore

/// Probes: present, on vigil's port, each on its own path, not identical, startup when needed.
enum ProbeRules {
    /// What a probe asks vigil, as far as the manifest tells.
    enum Asked: Equatable {
        case endpoint(Probe)
        /// `/readyz/db`: one check's item, without the drain and the other facts.
        case singleItem(String)
        case otherPath(String)
        case notVigil(String)
        case tcp
        case grpc
        case unknown
    }

    static func check(_ vigil: VigilContainer, service: Bool, into sink: inout FindingSink) {
        let container = vigil.container
        if service && container.readiness == nil {
            sink.report(
                .readinessMissing, at: container.mark, field: container.path + ".readinessProbe",
                container: container.name, "no readinessProbe: vigil's drain and checks never reach kubelet",
                fix: "readinessProbe: httpGet path /readyz, port \(portName(vigil))")
        }
        if service && container.liveness == nil {
            sink.report(
                .livenessMissing, at: container.mark, field: container.path + ".livenessProbe",
                container: container.name, "no livenessProbe: a hung app is never restarted",
                fix: "livenessProbe: httpGet path /livez, port \(portName(vigil))")
        }
        var reportedUnreachable = false
        let roles: [(Probe, ProbeSpec?, String)] = [
            (.live, container.liveness, "livenessProbe"), (.ready, container.readiness, "readinessProbe"),
            (.startup, container.startup, "startupProbe"),
        ]
        for (role, probe, key) in roles {
            guard let probe else { continue }
            let asked = self.asked(probe, vigil)
            if !reportedUnreachable, asked != .unknown, !isNotVigil(asked), unreachable(probe, vigil) {
                reportedUnreachable = true
                let listen = vigil.configuration.listen.map { ListenText.format($0) } ?? "off"
                let setting = vigil.entry("VIGIL_LISTEN")
                sink.report(
                    .listenUnreachable, at: setting?.valueMark ?? probe.handlerField.mark,
                    field: setting.map { $0.path + ".value" } ?? probe.handlerField.path, container: container.name,
                    "VIGIL_LISTEN is \(listen), but kubelet connects to the pod IP: \(key) cannot reach vigil",
                    fix: "VIGIL_LISTEN=:\(vigil.listenPort ?? 7979)")
            }
            report(asked, role: role, key: key, probe: probe, vigil, into: &sink)
        }
        if let liveness = container.liveness, let readiness = container.readiness, liveness.isIdentical(to: readiness) {
            sink.report(
                .probesIdentical, at: readiness.mark, field: readiness.path, container: container.name,
                "livenessProbe and readinessProbe are identical", fix: "liveness on /livez, readiness on /readyz")
        }
        if service, let liveness = container.liveness, container.startup == nil,
            self.asked(liveness, vigil) == .endpoint(.live), let budget = livenessStartBudget(liveness, vigil)
        {
            sink.report(
                .startupMissing, at: liveness.mark, field: container.path + ".startupProbe",
                container: container.name,
                "check \(budget.check) feeds liveness: an app that is not up within about \(budget.seconds)s "
                    + "fails /livez long enough for kubelet to restart it, and no startupProbe holds liveness back",
                fix: "startupProbe: httpGet path /startupz, port \(portName(vigil)), failureThreshold × "
                    + "periodSeconds above the slowest start")
        }
    }

    static func report(
        _ asked: Asked, role: Probe, key: String, probe: ProbeSpec, _ vigil: VigilContainer,
        into sink: inout FindingSink
    ) {
        let own = ownPath(role)
        let rule: Rule
        let message: String
        var fix = "\(key) on \(own)"
        switch asked {
        case .unknown:
            return
        case .endpoint(let endpoint) where endpoint == role:
            return
        case .endpoint(.ready) where role == .live:
            rule = .livenessOnReadyz
            message =
                "livenessProbe asks /readyz, which fails during every drain and while a dependency is down: "
                + "kubelet restarts pods instead of taking them out of rotation"
        case .endpoint(.live) where role == .ready:
            rule = .readinessOnLivez
            message = "readinessProbe asks /livez, which passes during the drain: nothing sees the pod leave rotation"
        case .endpoint(let endpoint):
            rule = .probeWrongPath
            message = "\(key) asks /\(endpoint.endpointName), the \(endpoint.rawValue) answer"
        case .singleItem(let path):
            rule = .probeWrongPath
            message = "\(key) asks \(path), which answers for one check only, not the process, startup or drain"
        case .otherPath(let path):
            rule = .probeWrongPath
            message = "\(key) asks \(path) on vigil's port, which is not a probe endpoint"
        case .tcp:
            rule = .probeWrongPath
            message = "\(key) is a tcpSocket probe on vigil's port: it only tests that vigil listens"
            fix = "\(key) as httpGet on \(own)"
        case .grpc:
            rule = .probeWrongPath
            message = "\(key) is a grpc probe on vigil's port: vigil answers HTTP"
            fix = "\(key) as httpGet on \(own)"
        case .notVigil(let why):
            rule = .probeNotOnVigil
            message = "\(key) \(why)"
            fix = "\(key) on port \(portName(vigil)), path \(own)"
        }
        let field = rule == .probeNotOnVigil ? (probe.portField ?? probe.handlerField) : probe.handlerField
        sink.report(rule, field, container: vigil.container.name, message, fix: fix)
    }

    static func isNotVigil(_ asked: Asked) -> Bool {
        if case .notVigil = asked { return true }
        return false
    }

    static func asked(_ probe: ProbeSpec, _ vigil: VigilContainer) -> Asked {
        let container = vigil.container
        let vigilPort = vigil.listenPort ?? 7979
        func onVigilPort(_ port: PortRef?) -> String? {
            guard let port else { return "has no port" }
            guard let number = container.resolve(port) else {
                return "uses port name \(port), which is not declared in the container's ports"
            }
            return number == vigilPort ? nil : "asks port \(number), not vigil's port \(vigilPort)"
        }
        switch probe.handler {
        case .missing: return .unknown
        case .exec(let command):
            guard let first = command.first, CommandWords.isVigil(first), command.count >= 2, command[1] == "probe"
            else {
                return .notVigil("runs \(ContainerRules.shown(command)), not `vigil probe`")
            }
            // The agent's own command-line parser decides what `vigil probe …` asks.
            if case .probe(let asked, _)? = try? Invocation.parse(Array(command.dropFirst())) {
                return .endpoint(asked)
            }
            return .otherPath(command.joined(separator: " "))
        case .tcpSocket(let port):
            return onVigilPort(port).map { .notVigil($0) } ?? .tcp
        case .grpc(let port):
            return onVigilPort(port.map { .number($0) }).map { .notVigil($0) } ?? .grpc
        case .httpGet(let path, let port, let https):
            if let why = onVigilPort(port) { return .notVigil(why) }
            if https { return .notVigil("uses scheme HTTPS; vigil's probe server answers plain HTTP") }
            let bare = String(path.prefix { $0 != "?" })
            switch bare {
            case "/livez", "/healthz": return .endpoint(.live)
            case "/readyz", "/ready": return .endpoint(.ready)
            case "/startupz": return .endpoint(.startup)
            default:
                let prefixes = ["/livez/", "/healthz/", "/readyz/", "/ready/", "/startupz/"]
                return prefixes.contains { bare.hasPrefix($0) } ? .singleItem(bare) : .otherPath(bare)
            }
        }
    }

    /// Probes over the network need a probe server on an address the node can reach; `vigil probe`
    /// (exec, inside the container) only needs one at all.
    static func unreachable(_ probe: ProbeSpec, _ vigil: VigilContainer) -> Bool {
        if case .exec = probe.handler { return vigil.configuration.listen == nil }
        return !vigil.listenReachableFromNode
    }

    /// The time from the container's start to the earliest liveness restart, when a check feeds
    /// liveness: the check turns failing after FAILURES runs, then kubelet needs failureThreshold probes.
    static func livenessStartBudget(_ probe: ProbeSpec, _ vigil: VigilContainer) -> (check: String, seconds: Int)? {
        let live = vigil.configuration.checks.filter { $0.feeds(.live) }
        let failing = live.map { check in
            (check.name, check.delay + check.interval * (check.failures - 1) + check.timeout)
        }
        guard let first = failing.min(by: { $0.1 < $1.1 }) else { return nil }
        let failsAt = max(VigilContainer.seconds(first.1), probe.initialDelaySeconds)
        return (first.0, failsAt + max(0, probe.failureThreshold - 1) * probe.periodSeconds)
    }

    static func ownPath(_ probe: Probe) -> String { "/" + probe.endpointName }

    /// How the fix names vigil's port: by its port name when the container declares one.
    static func portName(_ vigil: VigilContainer) -> String {
        let port = vigil.listenPort ?? 7979
        return vigil.container.ports.first { $0.number == port }?.name ?? "\(port)"
    }
}
