import VigilCore

/// Rules on one container under vigil: its VIGIL_* environment and how vigil is started.
enum ContainerRules {
    static func environment(
        _ vigil: VigilContainer, imageProblems: [ConfigurationProblem], into sink: inout FindingSink
    ) {
        let container = vigil.container
        for problem in vigil.parsed.problems {
            let unknown = problem.message.hasPrefix("unknown") || problem.message.hasPrefix("a check needs a name")
            let rule = unknown ? Rule.envUnknown : Rule.envInvalid
            var mark = container.envMark ?? container.mark
            var field = container.path + ".env"
            if let entry = vigil.entry(problem.variable) {
                mark = unknown ? entry.nameMark : entry.valueMark
                field = entry.path + (unknown ? ".name" : ".value")
            } else if imageProblems.contains(problem) {
                continue  // reported on the Dockerfile's ENV
            }
            sink.report(
                rule, at: mark, field: field, container: container.name, "\(problem)",
                fix: fix(for: problem, unknown: unknown, set: "set "))
        }
        for name in vigil.unchecked {
            if let entry = vigil.entry(name) {
                let how = entry.value == nil ? "comes from valueFrom" : "refers to $(…), expanded by kubelet"
                sink.report(
                    .envUnchecked, at: entry.nameMark, field: entry.path, container: container.name,
                    "\(name) \(how): its value cannot be checked here", fix: Rule.envUnchecked.fix)
            }
        }
        if let envFrom = container.envFrom {
            sink.report(
                .envUnchecked, envFrom, container: container.name,
                "envFrom may set VIGIL_* variables whose values cannot be checked here", fix: Rule.envUnchecked.fix)
        }
    }

    static func entrypoint(_ vigil: VigilContainer, into sink: inout FindingSink) {
        let container = vigil.container
        if let command = container.command {
            let words = command.value + (container.args?.value ?? [])
            if CommandWords.shellWrapsVigil(words) {
                sink.report(
                    .shellWrapsVigil, command, container: container.name,
                    "command runs vigil through a shell (\(shown(command.value))): the shell is PID 1 and "
                        + "does not pass SIGTERM on to vigil",
                    fix: "command: [\"/usr/local/bin/vigil\", \"--\", …] without the shell, or `exec vigil …`")
            } else if !CommandWords.namesVigil(words) {
                let why =
                    vigil.imageEntrypointIsVigil
                    ? "replaces the image's ENTRYPOINT \(shown(vigil.image?.entrypoint?.value.argv ?? []))"
                    : "replaces the image's ENTRYPOINT, but the container is configured for vigil (VIGIL_* env)"
                sink.report(
                    .commandBypassesVigil, command, container: container.name,
                    "command \(shown(command.value)) \(why): the app runs without vigil",
                    fix: "remove command: and put the app's arguments in args:")
            }
        } else if let args = container.args, vigil.image == nil || vigil.imageEntrypointIsVigil,
            CommandWords.shellWrapsVigil(args.value)
        {
            sink.report(
                .shellWrapsVigil, args, container: container.name,
                "args run vigil through a shell (\(shown(args.value)))",
                fix: "args: the app's command line, without the shell")
        }
        if let signal = container.stopSignal {
            stopSignal(
                signal, named: "lifecycle.stopSignal", vigil.configuration, container: container.name, into: &sink)
        }
    }

    /// STOPSIGNAL or `lifecycle.stopSignal`: must be one of vigil's shutdown signals.
    static func stopSignal(
        _ field: Field<String>, named name: String, _ configuration: Configuration, container: String?,
        into sink: inout FindingSink
    ) {
        guard let number = SignalNames.parse(field.value) else {
            sink.report(
                .stopSignalNotDrained, field, container: container,
                "\(name) \(field.value) is not a signal vigil can catch", fix: "\(name) SIGTERM")
            return
        }
        guard !configuration.shutdownSignals.contains(number) else { return }
        let drained = configuration.shutdownSignals.map(SignalNames.name).joined(separator: ", ")
        sink.report(
            .stopSignalNotDrained, field, container: container,
            "\(name) \(SignalNames.name(number)) is not a shutdown signal of vigil (\(drained)): vigil "
                + "forwards it to the app at once, without a drain",
            fix: "use SIGTERM, or add \(SignalNames.name(number)) to VIGIL_SHUTDOWN_SIGNALS")
    }

    /// Unknown names: rename to the suggestion (or remove); bad values: the agent's example.
    static func fix(for problem: ConfigurationProblem, unknown: Bool, set: String) -> String {
        guard let example = problem.example else { return "remove \(problem.variable)" }
        guard unknown, let equals = example.firstIndex(of: "=") else { return set + example }
        let name = example[..<equals]
        return name == problem.variable ? set + example : "rename \(problem.variable) to \(name) (\(set)\(example))"
    }

    /// Words as a JSON-ish list for messages: `["sh", "-c", "vigil -- app"]`.
    static func shown(_ words: [String]) -> String {
        "[" + words.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
    }
}
