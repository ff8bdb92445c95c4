import Logging
import VigilAgent
import VigilCore
import VigilSystem

#if canImport(Glibc)
import Glibc
#endif

// First, before any thread exists: block every signal so that only the signal loop takes them,
// and remember the mask and ignored signals vigil was given, to hand them to the app unchanged.
let inherited = InheritedSignalState.captureAndBlockAll()
let arguments = ProcessArguments.current()

// An exec check's runner: vigil re-executed by itself, before anything else is set up.
if arguments.count > 2 && arguments[1] == ExecCheckRunner.argument {
    ExecCheckRunner.run(Array(arguments.dropFirst(3)), inherited: inherited)
}

let version = VigilBuild.version

func fail(_ message: String, code: Int32) -> Never {
    Files.writeAll(2, Array("vigil: \(message)\n".utf8))
    exit(code)
}

func out(_ text: String) {
    Files.writeAll(1, Array(text.utf8))
}

let invocation: Invocation
do {
    invocation = try Invocation.parse(Array(arguments.dropFirst()))
} catch {
    fail("\(error)\nRun 'vigil --help' for usage.", code: 2)
}

let environment = ProcessEnvironment.current()
let parsed = ConfigurationParser.parse(environment)

func reportProblemsAndExit() -> Never {
    for problem in parsed.problems { Files.writeAll(2, Array("vigil: error: \(problem)\n".utf8)) }
    let count = parsed.problems.count
    fail("\(count) configuration problem\(count == 1 ? "" : "s"); nothing was started", code: 2)
}

/// The operator commands: print the agent's answer; exit 0 on 200, 1 otherwise or when unreachable.
func askAgent(_ method: AgentClient.Method, _ path: String, timeout: Duration) -> Never {
    if !parsed.problems.isEmpty { reportProblemsAndExit() }
    switch AgentClient.request(method, path, configuration: parsed.configuration, timeout: timeout) {
    case .success(let answer):
        out(answer.body)
        exit(answer.status == 200 ? 0 : 1)
    case .failure(let failure):
        fail("\(failure)", code: 1)
    }
}

switch invocation {
case .help:
    out(Invocation.helpText)
    exit(0)
case .version:
    out("vigil \(version)\n")
    exit(0)
case .config(let checkOnly):
    if !checkOnly { out(ConfigTable.render(parsed.effective)) }
    for warning in parsed.warnings { Files.writeAll(2, Array("vigil: warning: \(warning)\n".utf8)) }
    if !parsed.problems.isEmpty { reportProblemsAndExit() }
    if checkOnly { out("configuration ok\n") }
    exit(0)
case .probe(let probe, let timeout):
    askAgent(.get, "/\(probe.endpointName)?verbose", timeout: timeout)
case .status(let json, let timeout):
    askAgent(.get, json ? "/status?format=json" : "/status", timeout: timeout)
case .drain(let cancel, let timeout):
    askAgent(cancel ? .delete : .post, "/drain", timeout: timeout)
case .manifest(let request):
    if !parsed.problems.isEmpty { reportProblemsAndExit() }
    do throws(ManifestRenderer.Refusal) {
        out(try ManifestRenderer.render(request, parsed))
        exit(0)
    } catch {
        fail("manifest: \(error)", code: 2)
    }
case .wait(let request):
    // A pipeline's command about another instance: this environment's settings play no part.
    exit(WaitCommand.run(request))
case .run(let command):
    if !parsed.problems.isEmpty { reportProblemsAndExit() }
    let configuration = parsed.configuration
    LoggingSystem.bootstrap { _ in VigilLogHandler(format: configuration.logFormat, level: configuration.logLevel) }
    let logger = Logger(label: "vigil")
    for warning in parsed.warnings { logger.warning("\(warning)") }
    if ProcessControl.pid != 1 { ProcessControl.becomeChildSubreaper() }
    var runAs: ResolvedUser? = nil
    if let spec = configuration.user {
        switch Privileges.prepare(spec) {
        case .success(let user):
            runAs = user
            setenv("HOME", user.home, 1)  // before any thread: the app's and exec checks' HOME
        case .failure(let problem):
            let value = environment["VIGIL_USER"] ?? ""
            let line = ConfigurationProblem(
                variable: "VIGIL_USER", value: value, message: problem.message, example: "VIGIL_USER=1000:1000")
            fail("error: \(line)\nvigil: 1 configuration problem; nothing was started", code: 2)
        }
    }
    Agent(configuration: configuration, command: command, inherited: inherited, logger: logger, runAs: runAs).run()
}
