import Foundation
import Testing
import VigilCore

@testable import VigilLint
@testable import VigilLintCore

@Suite struct LintOptionsTests {
    @Test func parses() throws {
        let options = try LintOptions.parse([
            "--format", "sarif", "--fail-on=error", "--ignore", "pdb-missing,replicas-below-two", "--dockerfile",
            "app=build/Dockerfile", "--dockerfile", "./Dockerfile", "k8s/", "-", "--", "--odd-name.yaml",
        ])
        #expect(options.format == .sarif && options.failOn == .error)
        #expect(options.ignored == ["pdb-missing", "replicas-below-two"])
        #expect(options.dockerfiles.map(\.container) == ["app", nil])
        #expect(options.dockerfiles.map(\.path) == ["build/Dockerfile", "./Dockerfile"])
        #expect(options.paths == ["k8s/", "-", "--odd-name.yaml"])
        #expect(try LintOptions.parse(["rules", "--format", "markdown"]).command == .rules)
    }

    @Test(arguments: [
        ([], "no input: give files, directories, or - for stdin"),
        (["--format", "xml", "a"], "--format xml: use text, json, sarif or junit"),
        (["--format", "markdown", "a"], "--format markdown: use text, json, sarif or junit"),
        (["--fail-on", "never", "a"], "--fail-on never: use error, warning or info"),
        (["--ignore", "pdb-mising", "a"], "--ignore pdb-mising: no such rule; did you mean pdb-missing?"),
        (["--bogus", "a"], "unknown option --bogus (see vigil-lint --help)"),
        (["a", "--format"], "--format needs a value"),
        (["rules", "a"], "vigil-lint rules: unexpected argument a"),
        (["rules", "--format", "sarif"], "--format sarif: use text, json or markdown"),
    ])
    func usageErrors(_ arguments: [String], _ message: String) {
        #expect(throws: LintOptions.UsageError(description: message)) { try LintOptions.parse(arguments) }
    }

    @Test func exitCodesOfTheCommand() {
        var out = ""
        var err = ""
        let code = LintCommand.run(
            ["-"], readStandardInput: { Data("a: [b\n".utf8) }, output: { out += $0 }, errors: { err += $0 })
        #expect(code == 2 && err.hasPrefix("vigil-lint: -:2:1: invalid YAML: "))
        #expect(out == "vigil-lint: 0 objects, no findings; 1 input could not be read\n")
        #expect(LintCommand.run(["-"], readStandardInput: { Data() }, output: { _ in }, errors: { _ in }) == 0)
        let binary = Data([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1])
        #expect(LintCommand.run(["-"], readStandardInput: { binary }, output: { _ in }, errors: { err = $0 }) == 2)
        #expect(err.contains("a binary file"))
        #expect(LintCommand.run(["--nope"], output: { _ in }, errors: { _ in }) == 2)
    }
}

@Suite struct ManifestTests {
    @Test func invocation() throws {
        #expect(
            try Invocation.parse(["manifest", "--name", "web", "--image=r.example/web:1", "--port", "9000"])
                == .manifest(ManifestRequest(name: "web", image: "r.example/web:1", port: 9000)))
        #expect(throws: Invocation.UsageError.self) { try Invocation.parse(["manifest", "--name", "web"]) }
        #expect(throws: Invocation.UsageError.self) {
            try Invocation.parse(["manifest", "--name", "Web", "--image", "i"])
        }
        #expect(throws: Invocation.UsageError.self) {
            try Invocation.parse(["manifest", "--name", "w", "--image", "i", "--replicas", "0"])
        }
        #expect(throws: Invocation.UsageError.self) {
            try Invocation.parse(["manifest", "--name", "w", "--image", "a b"])
        }
    }

    /// The generated manifest passes vigil-lint with no finding, whatever the environment.
    @Test(arguments: [
        [:],
        ["VIGIL_DRAIN_DELAY": "45s", "VIGIL_STOP_TIMEOUT": "1m"],
        ["VIGIL_DRAIN_PORTS": "8080", "VIGIL_DRAIN_TIMEOUT": "40s"],
        ["VIGIL_CHECK_APP": "http://127.0.0.1:8080/healthz", "VIGIL_CHECK_APP_PROBES": "startup,live,ready"],
        ["VIGIL_LISTEN": ":9090", "VIGIL_MIN_READY": "10s", "VIGIL_CHECK_Q": "exec:sh -c 'test -f \"/tmp/a b\"'"],
    ])
    func generatedManifestsAreLintClean(_ environment: [String: String]) throws {
        let yaml = try ManifestRenderer.render(
            ManifestRequest(name: "web", image: "registry.example.com/web:1.4"), ConfigurationParser.parse(environment))
        let set = try objects(yaml)
        #expect(set.workloads.count == 1 && set.services.count == 1 && set.budgets.count == 1)
        #expect(Linter.lint(set).findings.map(\.rule) == [])
        let container = try #require(set.workloads.first?.pod?.containers.first)
        for (name, value) in environment { #expect(container.env.contains { $0.name == name && $0.value == value }) }
    }

    @Test func theGracePeriodCoversTheDrain() throws {
        let yaml = try ManifestRenderer.render(
            ManifestRequest(name: "web", image: "i"), ConfigurationParser.parse(["VIGIL_DRAIN_DELAY": "12.5s"]))
        #expect(try objects(yaml).workloads.first?.pod?.terminationGracePeriodSeconds?.value == 38)
    }

    @Test func refusals() {
        let request = ManifestRequest(name: "web", image: "i", port: 7979)
        #expect(throws: ManifestRenderer.Refusal.self) {
            try ManifestRenderer.render(request, ConfigurationParser.parse([:]))
        }
        for listen in ["off", "127.0.0.1:7979"] {
            #expect(throws: ManifestRenderer.Refusal.self) {
                try ManifestRenderer.render(
                    ManifestRequest(name: "w", image: "i"), ConfigurationParser.parse(["VIGIL_LISTEN": listen]))
            }
        }
    }

    @Test func theAdminTokenComesFromASecret() throws {
        let yaml = try ManifestRenderer.render(
            ManifestRequest(name: "web", image: "i"),
            ConfigurationParser.parse(["VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": "s3cret"]))
        #expect(!yaml.contains("s3cret"))
        #expect(Linter.lint(try objects(yaml)).findings.map(\.rule) == ["vigil-env-unchecked"])
    }
}
