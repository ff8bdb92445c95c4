import VigilCore

/// A container with what vigil-lint knows about its vigil: the VIGIL_* environment (the image's
/// ENV under the manifest's `env`), parsed by the agent's own parser, and its image when a
/// Dockerfile was given for it.
struct VigilContainer: Sendable {
    let container: Container
    let image: DockerImage?
    /// Names whose values are only known in the cluster (valueFrom, $(VAR), unresolved ARGs).
    let unchecked: [String]
    let parsed: ParsedConfiguration
    let underVigil: Bool

    var configuration: Configuration { parsed.configuration }

    init(_ container: Container, image: DockerImage?) {
        self.container = container
        self.image = image
        var environment: [String: String] = [:]
        var unchecked: [String] = []
        for variable in image?.env ?? [] where variable.name.hasPrefix("VIGIL_") {
            if let value = variable.value {
                environment[variable.name] = value
            } else {
                unchecked.append(variable.name)
            }
        }
        for entry in container.env where entry.name.hasPrefix("VIGIL_") {
            unchecked.removeAll { $0 == entry.name }
            if let value = entry.value, !value.contains("$(") {
                environment[entry.name] = value
            } else {
                environment[entry.name] = nil
                unchecked.append(entry.name)
            }
        }
        self.unchecked = unchecked
        var parsed = ConfigurationParser.parse(environment)
        parsed.problems.removeAll { problem in
            unchecked.contains { name in
                problem.variable == name
                    || (name.hasPrefix(Settings.checkPrefix) && problem.variable.hasPrefix(name + "_"))
            }
        }
        self.parsed = parsed
        let words = (container.command?.value ?? []) + (container.args?.value ?? [])
        self.underVigil =
            container.env.contains { $0.name.hasPrefix("VIGIL_") } || CommandWords.namesVigil(words)
            || image?.entrypoint.map { CommandWords.namesVigil($0.value.argv) } == true
    }

    /// Whether the image's ENTRYPOINT is known to be vigil (a Dockerfile was given).
    var imageEntrypointIsVigil: Bool {
        image?.entrypoint.map { CommandWords.namesVigil($0.value.argv) } ?? false
    }

    /// The probe server's port; nil with `VIGIL_LISTEN=off`.
    var listenPort: Int? { configuration.listen?.port }

    /// Whether kubelet, connecting to the pod IP, can reach the probe server.
    var listenReachableFromNode: Bool {
        guard let listen = configuration.listen else { return false }
        let host = listen.host
        return !(host == "localhost" || host.hasPrefix("127.") || host == "::1")
    }

    /// Drain time in whole seconds (rounded up): VIGIL_DRAIN_DELAY, or VIGIL_DRAIN_TIMEOUT with ports.
    var drainSeconds: Int {
        Self.seconds(configuration.worstCaseStopDuration - configuration.stopTimeout)
    }

    var stopSeconds: Int { Self.seconds(configuration.stopTimeout) }

    /// Which variable sets the drain, for messages.
    var drainName: String {
        configuration.drainPorts.isEmpty || configuration.drainDelay >= configuration.drainTimeout
            ? "VIGIL_DRAIN_DELAY" : "VIGIL_DRAIN_TIMEOUT"
    }

    static func seconds(_ duration: Duration) -> Int {
        Int(duration.secondsValue.rounded(.up))
    }

    /// The env entry that sets NAME (the last one, as kubelet uses it).
    func entry(_ name: String) -> EnvEntry? { container.env.last { $0.name == name } }
}
