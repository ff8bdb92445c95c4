import Foundation
import Testing

@testable import VigilLintCore

@Suite struct ReportTests {
    static func report(failOn: Severity = .warning) throws -> Report {
        var yaml = try changed("{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_DRIAN_DELAY, value: \"10s\"}")
        yaml = try changed("replicas: 3", "replicas: 1", in: yaml)
        yaml = try changed(
            "{name: VIGIL_CHECK_APP, value: \"http://127.0.0.1:8080/healthz\"}",
            "{name: VIGIL_CHECK_APP, valueFrom: {secretKeyRef: {name: s, key: k}}}", in: yaml)
        let result = Linter.lint(try objects(yaml, file: "k8s/web & api.yaml"))
        return Report(
            subjects: result.subjects, findings: result.findings,
            problems: [
                Report.InputProblem(
                    file: "bad.yaml", mark: SourceMark(line: 3, column: 5), message: "invalid YAML: x <y>")
            ],
            failOn: failOn)
    }

    @Test func textLines() throws {
        let text = TextReport.render(try Self.report())
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(
            lines[0].hasPrefix("k8s/web & api.yaml:7:3: warning replicas-below-two Deployment shop/web: replicas 1: "))
        #expect(
            lines[1].hasPrefix(
                "k8s/web & api.yaml:24:22: info vigil-env-unchecked Deployment shop/web, container app: "))
        #expect(
            lines[2].hasPrefix("k8s/web & api.yaml:26:22: error vigil-env-unknown Deployment shop/web, container app: ")
        )
        #expect(lines[3] == "vigil-lint: 2 objects, 3 findings (1 error, 1 warning, 1 info); 1 input could not be read")
    }

    @Test func exitCodes() throws {
        #expect(try Self.report().exitCode == 2)
        var report = try Self.report()
        report.problems = []
        #expect(report.exitCode == 1)
        report.failOn = .error
        #expect(report.exitCode == 1)
        report.findings.removeAll { $0.severity == .error }
        #expect(report.exitCode == 0)
        report.failOn = .info
        #expect(report.exitCode == 1)
    }

    @Test func json() throws {
        let text = JSONReport.render(try Self.report())
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["version"] as? Int == 1 && document["objects"] as? Int == 2)
        let findings = try #require(document["findings"] as? [[String: Any]])
        #expect(findings.count == 3)
        let keys: Set<String> = [
            "rule", "severity", "file", "line", "column", "kind", "namespace", "name", "container", "field", "message",
            "fix",
        ]
        for finding in findings { #expect(Set(finding.keys) == keys) }
        #expect(findings[0]["container"] is NSNull && findings[0]["namespace"] as? String == "shop")
        #expect(Set(findings.compactMap { $0["severity"] as? String }) == ["error", "warning", "info"])
    }

    @Test func sarif() throws {
        let text = SARIFReport.render(try Self.report(), version: "0.1.0")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(document["version"] as? String == "2.1.0")
        let run = try #require((document["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.count == Rule.all.count && driver["name"] as? String == "vigil-lint")
        let results = try #require(run["results"] as? [[String: Any]])
        for result in results {
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == result["ruleId"] as? String)
            #expect(["error", "warning", "note"].contains(result["level"] as? String ?? ""))
            let location = try #require(
                (result["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
            let artifact = try #require(location["artifactLocation"] as? [String: Any])
            #expect(artifact["uri"] as? String == "k8s/web%20%26%20api.yaml")
            #expect(((location["region"] as? [String: Any])?["startLine"] as? Int ?? 0) >= 1)
        }
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == false)
    }

    @Test func fingerprintsIgnoreLines() throws {
        var finding = try #require(try Self.report().findings.first)
        let before = SARIFReport.fingerprint(finding)
        finding.mark.line += 10
        #expect(SARIFReport.fingerprint(finding) == before && before.count == 16)
    }

    @Test func junitEscapesAndCountsFailures() throws {
        let xml = JUnitReport.render(try Self.report())
        #expect(xml.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"))
        #expect(xml.contains("<testsuites name=\"vigil-lint\" tests=\"3\" failures=\"1\" errors=\"1\">"))
        #expect(xml.contains("<testsuite name=\"k8s/web &amp; api.yaml\" tests=\"2\" failures=\"1\" errors=\"0\""))
        #expect(xml.contains("<testcase classname=\"k8s/web &amp; api.yaml\" name=\"PodDisruptionBudget shop/web\"/>"))
        #expect(xml.contains("message=\"2 findings: replicas-below-two, vigil-env-unknown\""))
        #expect(xml.contains("<system-out>k8s/web &amp; api.yaml:24:22: info vigil-env-unchecked"))
        #expect(xml.contains("message=\"invalid YAML: x &lt;y&gt;\""))
        #expect(JUnitReport.escape("a\u{1}b\"'") == "a\u{FFFD}b&quot;&apos;")
    }

    @Test func rulesListing() {
        #expect(RulesListing.text().contains("grace-period-too-short (error): "))
        let markdown = RulesListing.markdown().split(separator: "\n")
        #expect(markdown.count == Rule.all.count + 2)
        #expect(Set(Rule.all.map(\.id)).count == Rule.all.count)
        for rule in Rule.all {
            #expect(rule.id.allSatisfy { $0.isLowercase || $0 == "-" }, "\(rule.id)")
            #expect(!rule.why.isEmpty && !rule.fix.isEmpty)
        }
    }
}
