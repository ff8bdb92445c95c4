import Testing

@testable import VigilLint
@testable import VigilLintCore

@Suite struct ArgoRolloutTests {
    static func rollout(_ strategy: String) throws -> String {
        var yaml = try changed(
            "apiVersion: apps/v1\nkind: Deployment", "apiVersion: argoproj.io/v1alpha1\nkind: Rollout")
        yaml = try changed(
            "  strategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "  strategy:\n\(strategy)", in: yaml)
        return yaml
    }

    @Test func blueGreen() throws {
        let good = try Self.rollout(
            "    blueGreen: {activeService: web, previewService: web-preview, scaleDownDelaySeconds: 30}\n")
        #expect(try rules(good).isEmpty)
        let short = try Self.rollout(
            "    blueGreen: {activeService: web, previewService: web-preview, scaleDownDelaySeconds: 5}\n")
        let finding = try #require(try findings(short).first)
        #expect(finding.rule == "bluegreen-scale-down-delay")
        #expect(finding.message.hasPrefix("scaleDownDelaySeconds 5 is shorter than VIGIL_DRAIN_DELAY 10s"))
        let blind = try Self.rollout("    blueGreen: {activeService: web}\n")
        #expect(try rules(blind) == ["bluegreen-unverified"])
        let analysed = try Self.rollout(
            "    blueGreen: {activeService: web, prePromotionAnalysis: {templates: [{templateName: t}]}}\n")
        #expect(try rules(analysed).isEmpty)
    }

    @Test func canaryUsesTheDeploymentArithmetic() throws {
        #expect(try rules(try Self.rollout("    canary: {maxSurge: 1, maxUnavailable: 0}\n")).isEmpty)
        #expect(try rules(try Self.rollout("    canary: {steps: [{setWeight: 20}]}\n")).isEmpty)  // 25% of 3 is 0
        let four = try changed(
            "replicas: 3", "replicas: 4", in: try Self.rollout("    canary: {steps: [{setWeight: 20}]}\n"))
        #expect(try rules(four) == ["rolling-update-unavailable"])
    }

    @Test func probesInsideTheRolloutsTemplateAreChecked() throws {
        let yaml = try changed(
            "/livez, port: vigil}", "/readyz, port: vigil}", in: try Self.rollout("    canary: {}\n"))
        #expect(try rules(yaml) == ["liveness-on-readyz"])
    }

    @Test func aRolloutOfAnotherAPIGroupIsNotArgos() throws {
        let other = try changed("apiVersion: apps/v1\nkind: Deployment", "apiVersion: example.com/v1\nkind: Rollout")
        #expect(try objects(other).workloads.isEmpty)
    }
}

@Suite struct ObjectReaderTests {
    @Test func listsAndUnknownKinds() throws {
        let yaml = """
            apiVersion: v1
            kind: List
            items:
              - {apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: b}}
              - {apiVersion: v1, kind: Service, metadata: {name: s}, spec: {selector: {app: web}, ports: [{port: 80}]}}
              - {apiVersion: apps/v1, kind: DeploymentList, items: [{kind: Deployment, metadata: {name: d}}]}
            ---
            just a scalar
            ---
            - a sequence
            ---
            {metadata: {name: no-kind}}
            """
        let set = try objects(yaml)
        #expect(set.services.map(\.meta.name) == ["s"])
        #expect(set.workloads.map(\.meta.name) == ["d"])
        #expect(set.count == 2)
    }

    @Test func fieldsAndMarks() throws {
        let set = try objects(goodDeployment)
        let workload = try #require(set.workloads.first)
        #expect(workload.kind == .deployment && workload.meta.namespace == "shop")
        #expect(workload.replicas?.value == 3 && workload.replicas?.path == "spec.replicas")
        #expect(workload.rolling?.maxUnavailable?.value == .int(0))
        let pod = try #require(workload.pod)
        #expect(pod.labels == ["app": "web"] && pod.terminationGracePeriodSeconds?.value == 35)
        let container = try #require(pod.containers.first)
        #expect(container.resolve(.name("vigil")) == 7979 && container.resolve(.name("nope")) == nil)
        #expect(container.env.map(\.name).first == "VIGIL_CHECK_APP")
        #expect(container.readiness?.handler == .httpGet(path: "/readyz", port: .name("vigil"), https: false))
        #expect(container.readiness?.periodSeconds == 2 && container.liveness?.periodSeconds == 10)
        #expect(container.liveness?.handlerField.path == "spec.template.spec.containers[0].livenessProbe.httpGet.path")
        #expect(set.budgets.first?.maxUnavailable?.value == .int(1))
    }

    @Test func mergeKeysAndAnchors() throws {
        let yaml = """
            x-env: &env
              - {name: VIGIL_STOP_TIMEOUT, value: "25s"}
            kind: Pod
            metadata: &meta {name: p, labels: {app: p}}
            spec:
              containers:
                - &base {name: app, image: a, env: *env}
                - <<: *base
                  name: second
            """
        let pod = try #require(try objects(yaml).workloads.first?.pod)
        #expect(pod.containers.map(\.name) == ["app", "second"])
        #expect(pod.containers[1].env.first?.value == "25s")
    }
}

@Suite struct YAMLReaderTests {
    @Test func invalidYAMLNamesTheLine() {
        #expect(throws: Report.InputProblem.self) { try YAMLReader.documents("a: b\nc: [d\n", file: "f.yaml") }
        do {
            _ = try YAMLReader.documents("kind: Pod\nmetadata:\n  name: x\n   bad: indent\n", file: "f.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.file == "f.yaml" && error.mark?.line == 4)
            #expect(error.message.hasPrefix("invalid YAML: "))
        }
    }

    @Test func duplicateKeysAreInvalid() {
        #expect(throws: Report.InputProblem.self) { try YAMLReader.documents("a: 1\na: 2\n", file: "f") }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000)
        do {
            _ = try YAMLReader.documents(deep, file: "deep.yaml")
            Issue.record("no error")
        } catch {
            #expect(error.message.contains("nested deeper than 1000"))
        }
        let quoted = "a: \"" + String(repeating: "[", count: 5000) + "\"\n"
        #expect(throws: Never.self) { try YAMLReader.documents(quoted, file: "q.yaml") }
    }

    @Test func aliasBombsAreRefused() {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            yaml +=
                "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ")
                + "]\n"
        }
        #expect(throws: Report.InputProblem.self) { try YAMLReader.documents(yaml, file: "bomb.yaml") }
    }

    @Test func chunksKeepLinesAndOrder() throws {
        var text = ""
        for index in 0..<200 {
            text += "---\n# \(index)\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\(index)\n"
        }
        let chunks = ManifestParser.Chunk.split(text, into: 3)
        #expect(chunks.count == 3)
        #expect(chunks.map(\.text).joined() == text)
        let parallel = try ManifestParser.objects(text, file: "f", splitter: ThreadSplitter(workers: 3), threshold: 0)
        let inline = try ManifestParser.objects(text, file: "f", splitter: ThreadSplitter(workers: 1), threshold: 0)
        #expect(parallel.services.map(\.meta.name) == inline.services.map(\.meta.name))
        #expect(parallel.services.map(\.meta.mark) == inline.services.map(\.meta.mark))
        #expect(parallel.services.last?.meta.mark == SourceMark(line: 200 * 6 - 3, column: 1))
    }
}
