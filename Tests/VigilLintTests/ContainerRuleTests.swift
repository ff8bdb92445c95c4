import Testing

@testable import VigilLintCore

@Suite struct ContainerRuleTests {
    @Test func theGoodDeploymentHasNoFinding() throws {
        #expect(try findings(goodDeployment).isEmpty)
    }

    struct Defect: CustomTestStringConvertible, Sendable {
        let original: String
        let replacement: String
        let rules: [String]
        var testDescription: String { rules.joined(separator: ",") }
    }

    static let defects: [Defect] = [
        Defect(
            original: "{name: VIGIL_DRAIN_DELAY, value: \"10s\"}",
            replacement: "{name: VIGIL_DRIAN_DELAY, value: \"10s\"}",
            rules: ["vigil-env-unknown"]),
        Defect(
            original: "{name: VIGIL_STOP_TIMEOUT, value: \"20s\"}",
            replacement: "{name: VIGIL_STOP_TIMEOUT, value: \"soon\"}", rules: ["vigil-env-invalid"]),
        Defect(
            original: "{name: VIGIL_CHECK_APP, value: \"http://127.0.0.1:8080/healthz\"}",
            replacement: "{name: VIGIL_CHECK_APP, valueFrom: {configMapKeyRef: {name: c, key: k}}}",
            rules: ["vigil-env-unchecked"]),
        Defect(
            original: "{name: VIGIL_STOP_TIMEOUT, value: \"20s\"}",
            replacement: "{name: VIGIL_STOP_TIMEOUT, value: \"$(TIMEOUT)\"}", rules: ["vigil-env-unchecked"]),
        Defect(
            original: "image: web:1", replacement: "image: web:1\n          command: [\"/app/server\"]",
            rules: ["command-bypasses-vigil"]),
        Defect(
            original: "image: web:1",
            replacement: "image: web:1\n          command: [\"sh\", \"-c\", \"vigil -- /app/server\"]",
            rules: ["shell-wraps-vigil"]),
        Defect(
            original: "image: web:1", replacement: "image: web:1\n          lifecycle: {stopSignal: SIGUSR1}",
            rules: ["stopsignal-not-drained"]),
    ]

    @Test(arguments: defects) func eachDefectIsFound(_ defect: Defect) throws {
        #expect(try rules(try changed(defect.original, defect.replacement)) == defect.rules)
    }

    @Test func unknownNamesPointAtTheNameAndSuggest() throws {
        let yaml = try changed("{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_DRIAN_DELAY, value: \"10s\"}")
        let finding = try #require(try findings(yaml).first)
        #expect(finding.message.contains("did you mean VIGIL_DRAIN_DELAY?"))
        #expect(finding.field == "spec.template.spec.containers[0].env[2].name")
        #expect(finding.mark == SourceMark(line: 26, column: 22))
        #expect(finding.container == "app" && finding.kind == "Deployment" && finding.namespace == "shop")
    }

    @Test func badValuesPointAtTheValueWithTheExample() throws {
        let yaml = try changed("value: \"20s\"}", "value: \"soon\"}")
        let finding = try #require(try findings(yaml).first)
        #expect(finding.fix == "set VIGIL_STOP_TIMEOUT=20s")
        #expect(finding.field.hasSuffix("env[3].value"))
    }

    @Test func commandThatNamesVigilIsFine() throws {
        let yaml = try changed(
            "image: web:1", "image: web:1\n          command: [\"/usr/local/bin/vigil\", \"--\", \"/app/server\"]")
        #expect(try findings(yaml).isEmpty)
        let exec = try changed(
            "image: web:1", "image: web:1\n          command: [\"sh\", \"-c\", \"exec vigil -- app\"]")
        #expect(try findings(exec).isEmpty)
    }

    @Test func containersWithoutVigilAreLeftAlone() throws {
        let sidecar = try changed(
            "      containers:\n",
            "      containers:\n        - {name: redis, image: redis:7, command: [redis-server]}\n")
        #expect(try findings(sidecar).isEmpty)
    }

    @Test func aDockerfileMakesTheContainerVigilsAndItsENVCounts() throws {
        let bare = pod("    - {name: app, image: web:1, command: [\"/app/server\"]}\n")
        #expect(try rules(bare).isEmpty)  // nothing says vigil
        let image = dockerfile(
            """
            FROM debian
            COPY vigil /usr/local/bin/vigil
            ENV VIGIL_DRAIN_DELAY=15s
            EXPOSE 7979
            HEALTHCHECK CMD ["/usr/local/bin/vigil", "probe"]
            ENTRYPOINT ["/usr/local/bin/vigil", "--"]
            """)
        let found = try findings(bare, dockerfiles: [image])
        #expect(found.map(\.rule).contains("command-bypasses-vigil"))
        #expect(
            found.first { $0.rule == "command-bypasses-vigil" }?.message.contains("[\"/usr/local/bin/vigil\", \"--\"]")
                == true)
        // The image's 15s drain + the default 20s stop do not fit the default grace period of 30s.
        #expect(found.map(\.rule).contains("grace-period-too-short"))
    }

    @Test func aNamedDockerfileAppliesToItsContainerOnly() throws {
        let twoContainers = pod(
            "    - {name: app, image: web:1, command: [\"/app/server\"]}\n"
                + "    - {name: cache, image: redis:7, command: [\"redis-server\"]}\n")
        let image = dockerfile("FROM x\nCOPY vigil /vigil\nENTRYPOINT [\"/vigil\", \"--\"]\n", container: "cache")
        let found = try findings(twoContainers, dockerfiles: [image]).filter { $0.rule == "command-bypasses-vigil" }
        #expect(found.map(\.container) == ["cache"])
    }

    @Test func aDockerfileFoundInADirectoryCoversTheManifestsBelowIt() throws {
        let image = DockerfileInput(
            file: "./svc/a/Dockerfile", text: "FROM x\nCOPY vigil /vigil\nENTRYPOINT [\"/vigil\", \"--\"]\n",
            explicit: false)
        let yaml = pod("    - {name: app, image: web:1, command: [\"/app/server\"]}\n")
        func rules(_ file: String) throws -> [String] {
            Linter.lint(try objects(yaml, file: file), dockerfiles: [image]).findings.filter { $0.kind == "Pod" }.map(
                \.rule)
        }
        #expect(try rules("svc/a/k8s/pod.yaml").contains("command-bypasses-vigil"))
        #expect(try rules("svc/b/pod.yaml").isEmpty)
    }

    @Test func ignoredRulesAndTheAnnotation() throws {
        let yaml = try changed("{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_DRIAN_DELAY, value: \"10s\"}")
        #expect(try findings(yaml, ignoring: ["vigil-env-unknown"]).isEmpty)
        let annotated = try changed(
            "  namespace: shop\n",
            "  namespace: shop\n  annotations: {vigil-lint/ignore: \"vigil-env-unknown, vigil-env-invalid\"}\n",
            in: yaml)
        #expect(try findings(annotated).isEmpty)
        let typo = try changed(
            "  namespace: shop\n", "  namespace: shop\n  annotations: {vigil-lint/ignore: \"vigil-env-unknwn\"}\n")
        let finding = try #require(try findings(typo).first)
        #expect(finding.rule == "ignore-unknown-rule" && finding.fix == "did you mean vigil-env-unknown?")
    }
}
