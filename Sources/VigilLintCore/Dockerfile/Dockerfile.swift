/// The final stage of a Dockerfile as vigil-lint needs it, with what it inherits from earlier
/// stages of the same file (`FROM base AS …` then `FROM base`).
public struct DockerImage: Sendable {
    public struct EnvVariable: Sendable {
        public var name: String
        /// nil when it holds a `$VAR` that cannot be resolved from ARG defaults and ENV.
        public var value: String?
        public var mark: SourceMark
    }

    public var file: String
    public var mark: SourceMark = .start
    public var env: [EnvVariable] = []
    public var entrypoint: Field<DockerCommand>?
    public var cmd: Field<DockerCommand>?
    public var stopSignal: Field<String>?
    /// `.value` is nil for `HEALTHCHECK NONE`.
    public var healthcheck: Field<DockerCommand?>?
    public var exposed: [Int] = []
    /// vigil is copied in, configured, or run: the rules apply.
    public var mentionsVigil = false

    public init(file: String) { self.file = file }

    /// The final environment's VIGIL_* values, as the agent will read them.
    public var vigilEnvironment: [String: String] {
        var result: [String: String] = [:]
        for variable in env where variable.name.hasPrefix("VIGIL_") { result[variable.name] = variable.value ?? "" }
        return result
    }
}

/// Reads Dockerfile text: line continuations, comments, parser directives (`# escape=`),
/// heredocs, stages, ARG/ENV substitution. Pure: text in, the final stage out.
public enum DockerfileParser {
    struct Instruction {
        var keyword: String
        var arguments: String
        var mark: SourceMark
    }

    public static func parse(_ text: String, file: String) -> DockerImage {
        var stages: [String: DockerImage] = [:]
        var current = DockerImage(file: file)
        var globalArgs: [String: String?] = [:]
        var variables: [String: String?] = [:]
        var inStage = false
        var stageName: String?
        for instruction in instructions(text) {
            let arguments = instruction.arguments
            switch instruction.keyword {
            case "ARG":
                for word in CommandWords.split(arguments) {
                    let (name, value) = splitAssignment(word)
                    let resolved: String?? = value.map { substitute($0, variables) } ?? globalArgs[name]
                    if inStage { variables[name] = resolved ?? nil } else { globalArgs[name] = resolved ?? nil }
                }
            case "FROM":
                let words = CommandWords.split(arguments).filter { !$0.hasPrefix("--") }
                let base = words.first.flatMap { substitute($0, globalArgs) } ?? ""
                current = stages[base.lowercased()] ?? DockerImage(file: file)
                current.mark = instruction.mark
                stageName = words.count >= 3 && words[1].uppercased() == "AS" ? words[2].lowercased() : nil
                variables = [:]
                for variable in current.env { variables[variable.name] = variable.value }
                inStage = true
            case "ENV":
                for (name, value) in environmentPairs(arguments) {
                    let resolved = substitute(value, variables)
                    current.env.removeAll { $0.name == name }
                    current.env.append(DockerImage.EnvVariable(name: name, value: resolved, mark: instruction.mark))
                    variables[name] = resolved
                    if name.hasPrefix("VIGIL_") { current.mentionsVigil = true }
                }
            case "ENTRYPOINT":
                current.entrypoint = Field(DockerCommand(arguments), mark: instruction.mark, path: "ENTRYPOINT")
                current.cmd = nil  // Docker: setting ENTRYPOINT clears an inherited CMD
                if CommandWords.namesVigil(DockerCommand(arguments).argv) { current.mentionsVigil = true }
            case "CMD":
                current.cmd = Field(DockerCommand(arguments), mark: instruction.mark, path: "CMD")
                if CommandWords.namesVigil(DockerCommand(arguments).argv) { current.mentionsVigil = true }
            case "STOPSIGNAL":
                let signal = substitute(arguments, variables) ?? arguments
                current.stopSignal = Field(signal, mark: instruction.mark, path: "STOPSIGNAL")
            case "HEALTHCHECK":
                current.healthcheck = Field(healthcheck(arguments), mark: instruction.mark, path: "HEALTHCHECK")
            case "EXPOSE":
                for word in CommandWords.split(arguments) {
                    let port = (substitute(word, variables) ?? word).split(separator: "/").first.map(String.init)
                    if let port, let number = Int(port) { current.exposed.append(number) }
                }
            case "COPY", "ADD":
                if CommandWords.split(arguments).contains(where: { !$0.hasPrefix("--") && CommandWords.isVigil($0) }) {
                    current.mentionsVigil = true
                }
            default:
                break
            }
            if let stageName { stages[stageName] = current }
        }
        return current
    }
}
