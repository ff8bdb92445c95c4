/// Reads a pod spec's containers, with their env, ports, probes and lifecycle hooks.
enum ContainerReader {
    static func podSpec(_ spec: LintNode, path: String, labels: [String: String]) -> PodSpec {
        var containers: [Container] = []
        for (index, node) in (spec["containers"]?.items ?? []).enumerated() {
            containers.append(container(node, index: index, path: "\(path).containers[\(index)]"))
        }
        var pod = PodSpec(mark: spec.mark, path: path, labels: labels, containers: containers)
        pod.terminationGracePeriodSeconds = ObjectReader.int(spec, "terminationGracePeriodSeconds", path)
        return pod
    }

    static func container(_ node: LintNode, index: Int, path: String) -> Container {
        var container = Container(name: node["name"]?.string ?? "", index: index, mark: node.mark, path: path)
        container.image = node["image"]?.string
        container.command = words(node, "command", path)
        container.args = words(node, "args", path)
        if let pair = node.pair("env") {
            container.envMark = pair.keyMark
            for (offset, item) in pair.value.items.enumerated() {
                guard let name = item.pair("name"), let text = name.value.string else { continue }
                let value = item.pair("value")
                container.env.append(
                    EnvEntry(
                        name: text, value: item["valueFrom"] == nil ? (value?.value.string ?? "") : nil,
                        nameMark: name.value.mark, valueMark: value?.value.mark ?? name.value.mark,
                        path: "\(path).env[\(offset)]"))
            }
        }
        if let pair = node.pair("envFrom"), !pair.value.items.isEmpty {
            container.envFrom = Field(pair.value.items.count, mark: pair.keyMark, path: path + ".envFrom")
        }
        for item in node["ports"]?.items ?? [] {
            if let number = item["containerPort"]?.int {
                container.ports.append(ContainerPort(name: item["name"]?.string, number: number))
            }
        }
        container.liveness = probe(node, "livenessProbe", path)
        container.readiness = probe(node, "readinessProbe", path)
        container.startup = probe(node, "startupProbe", path)
        let lifecycle = node["lifecycle"]
        if let pair = lifecycle?.pair("preStop") {
            container.preStop = PreStopHook(
                sleepSeconds: sleepSeconds(pair.value), mark: pair.keyMark, path: path + ".lifecycle.preStop")
        }
        container.stopSignal = ObjectReader.string(lifecycle, "stopSignal", path + ".lifecycle")
        return container
    }

    static func words(_ node: LintNode, _ key: String, _ path: String) -> Field<[String]>? {
        guard let pair = node.pair(key) else { return nil }
        return Field(pair.value.strings ?? [], mark: pair.keyMark, path: "\(path).\(key)")
    }

    static func probe(_ container: LintNode, _ key: String, _ containerPath: String) -> ProbeSpec? {
        guard let pair = container.pair(key) else { return nil }
        let node = pair.value
        let path = "\(containerPath).\(key)"
        var handler = ProbeSpec.Handler.missing
        var field = Field("", mark: pair.keyMark, path: path)
        var portPair: LintNode.Pair?
        var portPath = ""
        if let http = node.pair("httpGet") {
            let pathPair = http.value.pair("path")
            portPair = http.value.pair("port")
            portPath = path + ".httpGet.port"
            let text = pathPair?.value.string ?? "/"
            handler = .httpGet(
                path: text, port: portPair.flatMap { PortRef($0.value) },
                https: http.value["scheme"]?.string?.uppercased() == "HTTPS")
            field = Field(
                text, mark: pathPair?.keyMark ?? http.keyMark,
                path: path + (pathPair == nil ? ".httpGet" : ".httpGet.path"))
        } else if let tcp = node.pair("tcpSocket") {
            portPair = tcp.value.pair("port")
            portPath = path + ".tcpSocket.port"
            handler = .tcpSocket(port: portPair.flatMap { PortRef($0.value) })
            field = Field("tcpSocket", mark: tcp.keyMark, path: path + ".tcpSocket")
        } else if let grpc = node.pair("grpc") {
            portPair = grpc.value.pair("port")
            portPath = path + ".grpc.port"
            handler = .grpc(port: portPair?.value.int)
            field = Field("grpc", mark: grpc.keyMark, path: path + ".grpc")
        } else if let exec = node.pair("exec") {
            let command = exec.value.pair("command")
            let words = command?.value.strings ?? []
            handler = .exec(command: words)
            field = Field(
                words.joined(separator: " "), mark: command?.keyMark ?? exec.keyMark,
                path: path + (command == nil ? ".exec" : ".exec.command"))
        }
        var probe = ProbeSpec(handler: handler, handlerField: field, mark: pair.keyMark, path: path)
        if let portPair { probe.portField = Field(portPair.value.string ?? "", mark: portPair.keyMark, path: portPath) }
        probe.initialDelaySeconds = node["initialDelaySeconds"]?.int ?? 0
        probe.periodSeconds = node["periodSeconds"]?.int ?? 10
        probe.timeoutSeconds = node["timeoutSeconds"]?.int ?? 1
        probe.failureThreshold = node["failureThreshold"]?.int ?? 3
        probe.successThreshold = node["successThreshold"]?.int ?? 1
        return probe
    }

    /// `sleep: {seconds: N}`, or an exec hook whose command is `sleep N` (also `sh -c "sleep N"`).
    static func sleepSeconds(_ hook: LintNode) -> Int? {
        if let seconds = hook["sleep"]?["seconds"]?.int { return seconds }
        guard var words = hook["exec"]?["command"]?.strings else { return nil }
        if words.count >= 3, ["sh", "bash", "ash", "dash"].contains(basename(words[0])), words[1] == "-c" {
            words = words[2].split(separator: " ").map(String.init)
        }
        guard words.count >= 2, basename(words[0]) == "sleep" else { return nil }
        let text = words[1].hasSuffix("s") ? String(words[1].dropLast()) : words[1]
        return Double(text).map { Int($0.rounded(.up)) }
    }
}

/// The last path component: `/usr/local/bin/vigil` → `vigil`.
func basename(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
