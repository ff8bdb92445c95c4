import Foundation
import VigilLintCore

/// vigil-lint from arguments to exit code: parse the command line, read the inputs, lint, print.
public enum LintCommand {
    public static let version = "0.1.0"

    /// Runs vigil-lint on a thread with a large stack (Yams builds its trees recursively), and
    /// returns the exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let code = Locked<Int32>(0)
        let thread = Thread {
            let result = run(arguments)
            code.withLock { $0 = result }
            done.signal()
        }
        thread.stackSize = 1 << 30
        thread.start()
        done.wait()
        return code.withLock { $0 }
    }

    public static func run(
        _ arguments: [String], readStandardInput: () -> Data = { FileHandle.standardInput.readDataToEndOfFile() },
        output: (String) -> Void = { write(1, $0) }, errors: (String) -> Void = { write(2, $0) }
    ) -> Int32 {
        let options: LintOptions
        do {
            options = try LintOptions.parse(arguments)
        } catch {
            errors("vigil-lint: \(error)\nRun 'vigil-lint --help' for usage.\n")
            return 2
        }
        switch options.command {
        case .help:
            output(LintOptions.helpText)
            return 0
        case .version:
            output("vigil-lint \(version)\n")
            return 0
        case .rules:
            switch options.format {
            case .json: output(RulesListing.json())
            case .markdown: output(RulesListing.markdown())
            default: output(RulesListing.text())
            }
            return 0
        case .lint:
            let report = lint(options, readStandardInput: readStandardInput)
            for problem in report.problems { errors("vigil-lint: \(problem.description)\n") }
            switch options.format {
            case .json: output(JSONReport.render(report))
            case .sarif: output(SARIFReport.render(report, version: version))
            case .junit: output(JUnitReport.render(report))
            case .text, .markdown: output(TextReport.render(report))
            }
            return report.exitCode
        }
    }

    static func lint(_ options: LintOptions, readStandardInput: () -> Data) -> Report {
        let inputs = Inputs.collect(options, readStandardInput: readStandardInput)
        var problems = inputs.problems
        var objects = ObjectSet()
        let splitter = ThreadSplitter()
        for (file, text) in inputs.manifests {
            do {
                objects.append(contentsOf: try ManifestParser.objects(text, file: file, splitter: splitter))
            } catch {
                problems.append(error)
            }
        }
        let result = Linter.lint(
            objects, dockerfiles: inputs.dockerfiles, ignoring: Set(options.ignored), splitter: splitter)
        return Report(subjects: result.subjects, findings: result.findings, problems: problems, failOn: options.failOn)
    }

    public static func write(_ descriptor: Int32, _ text: String) {
        let handle = descriptor == 1 ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }
}
