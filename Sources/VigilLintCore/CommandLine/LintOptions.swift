import VigilCore

/// vigil-lint's command line, parsed without I/O.
public struct LintOptions: Equatable, Sendable {
    public enum Command: Equatable, Sendable {
        case lint
        case rules
        case help
        case version
    }

    public enum Format: String, Equatable, Sendable, CaseIterable {
        case text, json, sarif, junit
        /// `vigil-lint rules --format markdown` only.
        case markdown
    }

    public struct DockerfileOption: Equatable, Sendable {
        public var path: String
        public var container: String?
    }

    public struct UsageError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    public var command: Command = .lint
    public var paths: [String] = []
    public var format: Format = .text
    public var failOn: Severity = .warning
    public var ignored: [String] = []
    public var dockerfiles: [DockerfileOption] = []

    public init() {}

    public static func parse(_ arguments: [String]) throws(UsageError) -> LintOptions {
        var options = LintOptions()
        var rest = arguments[...]
        if rest.first == "rules" {
            options.command = .rules
            rest = rest.dropFirst()
        }
        var onlyPaths = false
        while let argument = rest.popFirst() {
            if onlyPaths || argument == "-" || !argument.hasPrefix("-") {
                options.paths.append(argument)
                continue
            }
            var name = argument
            var inline: String? = nil
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix("--") {
                name = String(argument[..<equals])
                inline = String(argument[argument.index(after: equals)...])
            }
            func value() throws(UsageError) -> String {
                if let inline { return inline }
                guard let next = rest.popFirst() else { throw UsageError(description: "\(name) needs a value") }
                return next
            }
            switch name {
            case "--": onlyPaths = true
            case "-h", "--help": options.command = .help
            case "-V", "--version": options.command = .version
            case "--format", "-f":
                let text = try value()
                guard let format = Format(rawValue: text.lowercased()),
                    format != .markdown || options.command == .rules
                else {
                    let allowed = options.command == .rules ? "text, json or markdown" : "text, json, sarif or junit"
                    throw UsageError(description: "--format \(text): use \(allowed)")
                }
                options.format = format
            case "--fail-on":
                let text = try value()
                guard let severity = Severity(rawValue: text.lowercased()) else {
                    throw UsageError(description: "--fail-on \(text): use error, warning or info")
                }
                options.failOn = severity
            case "--ignore":
                for id in try value().split(separator: ",").map(String.init) {
                    guard Rule.named(id) != nil else {
                        let suggestion = EditDistance.closest(to: id, among: Rule.all.map(\.id))
                        throw UsageError(
                            description: "--ignore \(id): no such rule"
                                + (suggestion.map { "; did you mean \($0)?" } ?? " (see `vigil-lint rules`)"))
                    }
                    options.ignored.append(id)
                }
            case "--dockerfile":
                let text = try value()
                if let equals = text.firstIndex(of: "="), !text[..<equals].contains("/") {
                    options.dockerfiles.append(
                        DockerfileOption(
                            path: String(text[text.index(after: equals)...]), container: String(text[..<equals])))
                } else {
                    options.dockerfiles.append(DockerfileOption(path: text, container: nil))
                }
            default:
                throw UsageError(description: "unknown option \(argument) (see vigil-lint --help)")
            }
        }
        if options.command == .rules, let extra = options.paths.first {
            throw UsageError(description: "vigil-lint rules: unexpected argument \(extra)")
        }
        if options.command == .rules, options.format == .sarif || options.format == .junit {
            throw UsageError(description: "--format \(options.format.rawValue): use text, json or markdown")
        }
        if options.command == .lint, options.format == .markdown {
            throw UsageError(description: "--format markdown is for `vigil-lint rules`")
        }
        if options.command == .lint, options.paths.isEmpty, options.dockerfiles.isEmpty {
            throw UsageError(description: "no input: give files, directories, or - for stdin")
        }
        return options
    }

    public static let helpText = """
        vigil-lint: checks Kubernetes manifests and Dockerfiles against vigil before a deploy:
        VIGIL_* values (with the agent's own parser), probes, grace period, rollout and drain.

        USAGE
          vigil-lint [OPTIONS] PATH...    files, directories (*.yaml, *.yml, *.json, Dockerfile,
                                          *.Dockerfile, Containerfile), or - for stdin
          vigil-lint rules [--format text|json|markdown]

        OPTIONS
          --format text|json|sarif|junit  output (default text: FILE:LINE:COL: SEVERITY RULE message)
          --fail-on error|warning|info    exit 1 when a finding is at least this (default warning)
          --ignore RULE[,RULE]            skip rules (repeatable); per object: the annotation
                                          vigil-lint/ignore: "RULE,RULE"
          --dockerfile [CONTAINER=]PATH   the image's Dockerfile (repeatable); with CONTAINER, only
                                          for containers of that name
          -h, --help | -V, --version

        EXIT CODES
          0 nothing at or above --fail-on; 1 something is; 2 usage error, unreadable file or
          invalid YAML (the message names the file and line).

          helm template . | vigil-lint -
          vigil-lint --dockerfile Dockerfile --format sarif k8s/ > vigil-lint.sarif

        """
}
