import VigilCore

/// Rules on a Dockerfile's final stage: vigil as the exec-form ENTRYPOINT with `--`, STOPSIGNAL,
/// HEALTHCHECK through `vigil probe`, EXPOSE, and the ENV VIGIL_* values.
enum DockerfileRules {
    /// Returns the problems of the image's own VIGIL_* environment, which containers built from
    /// it do not report again.
    @discardableResult
    static func check(_ image: DockerImage, explicit: Bool, into sink: inout FindingSink) -> [ConfigurationProblem] {
        guard image.mentionsVigil else {
            if explicit {
                sink.report(
                    .dockerfileEntrypoint, at: image.mark, field: "FROM",
                    "the final stage neither copies, configures nor runs vigil",
                    fix: "COPY vigil into the image and ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]")
            }
            return []
        }
        let environment = image.vigilEnvironment.filter { name, _ in
            image.env.contains { $0.name == name && $0.value != nil }
        }
        let parsed = ConfigurationParser.parse(environment)
        for problem in parsed.problems {
            let unknown = problem.message.hasPrefix("unknown") || problem.message.hasPrefix("a check needs a name")
            let variable = image.env.last { $0.name == problem.variable }
            sink.report(
                unknown ? .envUnknown : .envInvalid, at: variable?.mark ?? image.mark, field: "ENV \(problem.variable)",
                "\(problem)", fix: ContainerRules.fix(for: problem, unknown: unknown, set: "ENV "))
        }
        entrypoint(image, into: &sink)
        if let signal = image.stopSignal {
            ContainerRules.stopSignal(signal, named: "STOPSIGNAL", parsed.configuration, container: nil, into: &sink)
        }
        if let listen = parsed.configuration.listen {
            healthcheck(image, into: &sink)
            if !image.exposed.contains(listen.port) {
                sink.report(
                    .dockerfileExpose, at: image.mark, field: "EXPOSE",
                    "vigil's port \(listen.port) is not EXPOSEd", fix: "EXPOSE \(listen.port)")
            }
        }
        return parsed.problems
    }

    static func entrypoint(_ image: DockerImage, into sink: inout FindingSink) {
        guard let entrypoint = image.entrypoint else {
            if let cmd = image.cmd, CommandWords.shellWrapsVigil(cmd.value.argv) {
                sink.report(
                    .shellWrapsVigil, cmd, "shell-form CMD puts /bin/sh -c in front of vigil",
                    fix: "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"] and CMD [\"your-app\", …]")
                return
            }
            let inCmd = image.cmd.map { CommandWords.namesVigil($0.value.argv) } == true ? " (vigil is in CMD)" : ""
            sink.report(
                .dockerfileEntrypoint, at: image.cmd?.mark ?? image.mark, field: "ENTRYPOINT",
                "no ENTRYPOINT\(inCmd): `docker run IMAGE cmd` and Kubernetes args: replace CMD and run without vigil",
                fix: "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]")
            return
        }
        let argv = entrypoint.value.argv
        if CommandWords.shellWrapsVigil(argv) {
            let form = if case .shell = entrypoint.value { "shell-form ENTRYPOINT" } else { "ENTRYPOINT" }
            sink.report(
                .shellWrapsVigil, entrypoint, "\(form) puts \(argv[0]) -c in front of vigil: the shell is PID 1",
                fix: "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]")
        } else if !CommandWords.namesVigil(argv) {
            sink.report(
                .dockerfileEntrypoint, entrypoint, "ENTRYPOINT \(ContainerRules.shown(argv)) does not start vigil",
                fix: "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]")
        } else if CommandWords.isVigil(argv[0]), argv.count < 2 || argv[1] != "--" {
            sink.report(
                .dockerfileSeparator, entrypoint,
                "ENTRYPOINT \(ContainerRules.shown(argv)) has no `--`: a CMD such as `status` runs vigil's command",
                fix: "ENTRYPOINT [\"\(argv[0])\", \"--\"\(argv.dropFirst().map { ", \"\($0)\"" }.joined())]")
        }
    }

    static func healthcheck(_ image: DockerImage, into sink: inout FindingSink) {
        guard let healthcheck = image.healthcheck else {
            sink.report(
                .dockerfileHealthcheck, at: image.mark, field: "HEALTHCHECK",
                "no HEALTHCHECK: docker, podman and ECS cannot see vigil's health",
                fix: "HEALTHCHECK CMD [\"/usr/local/bin/vigil\", \"probe\", \"ready\"]")
            return
        }
        guard let command = healthcheck.value else { return }  // HEALTHCHECK NONE: a choice
        var words = command.argv
        if let script = CommandWords.shellScript(words) { words = CommandWords.split(script) }
        if let index = words.firstIndex(where: CommandWords.isVigil), words.dropFirst(index + 1).first == "probe" {
            return
        }
        sink.report(
            .dockerfileHealthcheck, healthcheck,
            "HEALTHCHECK runs \(ContainerRules.shown(command.argv)), not `vigil probe`: it misses vigil's "
                + "checks and the drain",
            fix: "HEALTHCHECK CMD [\"/usr/local/bin/vigil\", \"probe\", \"ready\"]")
    }
}
