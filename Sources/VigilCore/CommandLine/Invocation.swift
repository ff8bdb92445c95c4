/// What vigil was asked to do on its command line. Everything else comes from `VIGIL_*` variables.
public enum Invocation: Equatable, Sendable {
    case run(command: [String])
    case help
    case version
    case config(checkOnly: Bool)
    case probe(Probe, timeout: Duration)
    case status(json: Bool, timeout: Duration)
    case drain(cancel: Bool, timeout: Duration)
    case manifest(ManifestRequest)
    case wait(WaitRequest)

    public struct UsageError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    static let defaultTimeout: Duration = .seconds(2)

    /// `vigil [--] COMMAND [ARG...]` runs COMMAND; a first word naming a subcommand selects it.
    /// After `--` every word belongs to COMMAND, so an app named `status` runs as `vigil -- status`.
    public static func parse(_ arguments: [String]) throws(UsageError) -> Invocation {
        guard let first = arguments.first else {
            throw UsageError(description: "missing COMMAND: vigil runs an app, as in `vigil -- my-app --flag`")
        }
        var rest = Array(arguments.dropFirst())
        switch first {
        case "--":
            guard !rest.isEmpty else { throw UsageError(description: "missing COMMAND after --") }
            return .run(command: rest)
        case "-h", "--help", "help":
            return .help
        case "-V", "--version", "version":
            return .version
        case "config":
            let flags = try takeFlags(&rest, allowed: ["--check"])
            try noOperands(rest, "config")
            return .config(checkOnly: flags.contains("--check"))
        case "probe":
            let timeout = try takeTimeout(&rest)
            let probe: Probe
            switch rest.count {
            case 0: probe = .ready
            case 1:
                guard let parsed = Probe(rawValue: rest[0]) else {
                    throw UsageError(
                        description: "vigil probe: unknown probe \"\(rest[0])\" (use live, ready or startup)")
                }
                probe = parsed
            default: throw UsageError(description: "vigil probe takes one probe: live, ready or startup")
            }
            return .probe(probe, timeout: timeout)
        case "status":
            let timeout = try takeTimeout(&rest)
            let flags = try takeFlags(&rest, allowed: ["--json"])
            try noOperands(rest, "status")
            return .status(json: flags.contains("--json"), timeout: timeout)
        case "drain":
            let timeout = try takeTimeout(&rest)
            let flags = try takeFlags(&rest, allowed: ["--cancel"])
            try noOperands(rest, "drain")
            return .drain(cancel: flags.contains("--cancel"), timeout: timeout)
        case "manifest":
            return .manifest(try parseManifest(rest))
        case "wait":
            return .wait(try parseWait(rest))
        default:
            if first.hasPrefix("-") {
                throw UsageError(
                    description:
                        "unknown option \(first) (vigil is configured with VIGIL_* variables; see vigil --help)")
            }
            return .run(command: arguments)
        }
    }

    private static func takeTimeout(_ arguments: inout [String]) throws(UsageError) -> Duration {
        var timeout = defaultTimeout
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            var value: String? = nil
            if argument == "--timeout" {
                guard index + 1 < arguments.count else {
                    throw UsageError(description: "--timeout needs a duration, as in --timeout 2s")
                }
                value = arguments[index + 1]
                arguments.removeSubrange(index...index + 1)
            } else if argument.hasPrefix("--timeout=") {
                value = String(argument.dropFirst("--timeout=".count))
                arguments.remove(at: index)
            } else {
                index += 1
                continue
            }
            guard let value, let parsed = DurationText.parse(value), parsed > .zero else {
                throw UsageError(description: "--timeout \"\(value ?? "")\" is not a duration, as in --timeout 2s")
            }
            timeout = parsed
        }
        return timeout
    }

    private static func takeFlags(_ arguments: inout [String], allowed: Set<String>) throws(UsageError) -> Set<String> {
        var flags: Set<String> = []
        for argument in arguments where argument.hasPrefix("-") {
            guard allowed.contains(argument) else { throw UsageError(description: "unknown option \(argument)") }
            flags.insert(argument)
        }
        arguments.removeAll { allowed.contains($0) }
        return flags
    }

    private static func noOperands(_ arguments: [String], _ command: String) throws(UsageError) {
        if let extra = arguments.first {
            throw UsageError(description: "vigil \(command): unexpected argument \"\(extra)\"")
        }
    }

    public static let helpText = """
        vigil: runs your app as PID 1, watches its health, answers Kubernetes probes, and drains
        it before it stops.

        USAGE
          vigil [--] COMMAND [ARG...]     run COMMAND under supervision
          vigil probe [live|ready|startup] [--timeout 2s]
                                          ask the local agent; exit 0 when passing (for HEALTHCHECK)
          vigil status [--json]           every check of the local agent, as a table or JSON
          vigil drain [--cancel]          take the instance out of rotation (or back in)
          vigil config [--check]          print the effective configuration (--check: problems only)
          vigil manifest --name NAME --image IMAGE [--port 8080] [--replicas 3]
                                          a Deployment, Service and PodDisruptionBudget that fit
                                          this environment (check them with vigil-lint)
          vigil wait URL [--ready-for 10s] [--version V] [--timeout 5m]
                                          wait until the vigil at URL is ready (at version V) for
                                          --ready-for: a blue-green gate; exit 0, 1 at --timeout
          vigil --help | --version

        CONFIGURATION (environment; see docs/configuration.md)
          VIGIL_LISTEN=:7979              probe server address, or off
          VIGIL_CHECK_<NAME>=<target>     http://, https://, tcp://, unix://, exec:, file://
          VIGIL_CHECK_<NAME>_PROBES=ready which probes it feeds: startup, live, ready
          VIGIL_DRAIN_DELAY=5s            on SIGTERM, fail readiness this long before stopping the app
          VIGIL_STOP_TIMEOUT=20s          then SIGKILL the app's group after this
          `vigil config` lists every setting with its value and source.

        EXIT CODES
          the app's code; 128+N when it was killed by signal N; 127 command not found;
          126 not executable; 2 usage or configuration error (nothing was started).

        """
}
