/// `--format junit`: one testsuite per input file, one testcase per object. A testcase fails when
/// it has findings at or above `--fail-on` (all of them in one <failure>); findings below it go
/// to <system-out>. Inputs that could not be read are testcases with an <error>.
public enum JUnitReport {
    public static func render(_ report: Report) -> String {
        var files: [String] = []
        for file in report.subjects.map(\.file) + report.problems.map(\.file) where !files.contains(file) {
            files.append(file)
        }
        var suites: [String] = []
        var totals = (tests: 0, failures: 0, errors: 0)
        for file in files {
            var cases: [String] = []
            var failures = 0
            let subjects = report.subjects.filter { $0.file == file }
            for subject in subjects {
                let findings = report.findings.filter {
                    $0.file == file && $0.kind == subject.kind && $0.namespace == subject.namespace
                        && $0.name == subject.name
                }
                let failing = findings.filter { $0.severity >= report.failOn }
                let passing = findings.filter { $0.severity < report.failOn }
                var body = ""
                if !failing.isEmpty {
                    failures += 1
                    let rules = failing.map(\.rule).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                    let message = TextReport.plural(failing.count, "finding") + ": " + rules.joined(separator: ", ")
                    body += "<failure type=\"\(escape(worst(failing).rawValue))\" message=\"\(escape(message))\">"
                    body += escape(failing.map(TextReport.line).joined(separator: "\n")) + "</failure>"
                }
                if !passing.isEmpty {
                    body +=
                        "<system-out>" + escape(passing.map(TextReport.line).joined(separator: "\n")) + "</system-out>"
                }
                cases.append(testcase(file, subject.title, body))
            }
            let problems = report.problems.filter { $0.file == file }
            for problem in problems {
                let message = escape(problem.message)
                let body = "<error type=\"input\" message=\"\(message)\">\(escape(problem.description))</error>"
                cases.append(testcase(file, "read \(file)", body))
            }
            totals.tests += cases.count
            totals.failures += failures
            totals.errors += problems.count
            suites.append(
                "  <testsuite name=\"\(escape(file))\" tests=\"\(cases.count)\" failures=\"\(failures)\" "
                    + "errors=\"\(problems.count)\" skipped=\"0\">\n" + cases.joined() + "  </testsuite>\n")
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"vigil-lint\" tests=\"\(totals.tests)\" failures=\"\(totals.failures)\" "
            + "errors=\"\(totals.errors)\">\n" + suites.joined() + "</testsuites>\n"
    }

    static func testcase(_ file: String, _ name: String, _ body: String) -> String {
        let open = "    <testcase classname=\"\(escape(file))\" name=\"\(escape(name))\""
        return body.isEmpty ? open + "/>\n" : open + ">" + body + "</testcase>\n"
    }

    static func worst(_ findings: [Finding]) -> Severity { findings.map(\.severity).max() ?? .info }

    /// XML 1.0 text and attribute escaping; characters XML cannot carry become U+FFFD.
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\n", "\t": out.unicodeScalars.append(scalar)
            case "\r": out += "&#13;"
            default:
                let allowed = scalar.value >= 0x20 && !(0xFFFE...0xFFFF).contains(scalar.value)
                out.unicodeScalars.append(allowed ? scalar : "\u{FFFD}")
            }
        }
        return out
    }
}
