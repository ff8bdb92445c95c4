import Foundation
import Synchronization
import VigilLintCore

/// vigil-lint from arguments to exit code: parse the command line, read the inputs, lint, print.
public enum LintCommand {
    public static let version = "0.1.0"

    /// Runs vigil-lint on a thread with a large stack (Yams builds its trees recursively), and
    /// returns the exit code.
    public static func main(_ arguments: [String]) -> Int32 {
        let done = DispatchSemaphore(value: 0)
        let code = ExitCode()
        let thread = Thread {
            code.set(run(arguments))
            done.signal()
        }
        thread.stackSize = 1 << 30
        thread.start()
        done.wait()
        return code.get()
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
        for (file, text) in inputs.manifests {
            do {
                for document in try YAMLReader.documents(text, file: file) {
                    objects.append(contentsOf: ObjectReader.read(document, file: file))
                }
            } catch {
                problems.append(error)
            }
        }
        let result = Linter.lint(objects, dockerfiles: inputs.dockerfiles, ignoring: Set(options.ignored))
        return Report(subjects: result.subjects, findings: result.findings, problems: problems, failOn: options.failOn)
    }

    public static func write(_ descriptor: Int32, _ text: String) {
        let handle = descriptor == 1 ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data(text.utf8))
    }
}

/// The exit code handed from the lint thread to the main thread.
final class ExitCode: Sendable {
    private let value = Mutex<Int32>(0)

    func set(_ code: Int32) { value.withLock { $0 = code } }
    func get() -> Int32 { value.withLock { $0 } }
}
