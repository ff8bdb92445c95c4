import Testing

@testable import VigilLintCore

@Suite struct ProbeRuleTests {
    static let liveness = "httpGet: {path: /livez, port: vigil}\n"
    static let readiness = "httpGet: {path: /readyz, port: vigil}"

    @Test(arguments: [
        ("/livez, port: vigil}\n", "/readyz, port: vigil}\n", ["liveness-on-readyz"]),
        ("/livez, port: vigil}\n", "/livez, port: 7979}\n", []),
        ("/livez, port: vigil}\n", "/healthz, port: vigil}\n", []),
        ("/livez, port: vigil}\n", "/livez?verbose, port: vigil}\n", []),
        ("/livez, port: vigil}\n", "/startupz, port: vigil}\n", ["probe-wrong-path"]),
        ("/livez, port: vigil}\n", "/metrics, port: vigil}\n", ["probe-wrong-path"]),
        ("/livez, port: vigil}\n", "/livez, port: http}\n", ["probe-not-on-vigil"]),
        ("/livez, port: vigil}\n", "/livez, port: admin}\n", ["probe-not-on-vigil"]),
        ("/livez, port: vigil}\n", "/livez, port: vigil, scheme: HTTPS}\n", ["probe-not-on-vigil"]),
        ("/readyz, port: vigil}", "/livez, port: vigil}", ["readiness-on-livez"]),
        ("/readyz, port: vigil}", "/readyz/app, port: vigil}", ["probe-wrong-path"]),
        ("/readyz, port: vigil}", "/ready, port: vigil}", []),
    ])
    func paths(_ original: String, _ replacement: String, _ expected: [String]) throws {
        #expect(try rules(try changed(original, replacement)) == expected)
    }

    @Test func execProbesAskVigilThroughTheAgentsOwnCommandLine() throws {
        let live = try changed(
            Self.liveness, "exec: {command: [\"/usr/local/bin/vigil\", \"probe\", \"live\", \"--timeout\", \"1s\"]}\n")
        #expect(try rules(live).isEmpty)
        let ready = try changed(Self.liveness, "exec: {command: [vigil, probe]}\n")
        #expect(try rules(ready) == ["liveness-on-readyz"])
        let cat = try changed(Self.liveness, "exec: {command: [cat, /tmp/healthy]}\n")
        #expect(try rules(cat) == ["probe-not-on-vigil"])
    }

    @Test func tcpAndGrpcOnVigilsPortOnlyTestThatItListens() throws {
        #expect(try rules(try changed(Self.liveness, "tcpSocket: {port: vigil}\n")) == ["probe-wrong-path"])
        #expect(try rules(try changed(Self.liveness, "grpc: {port: 7979}\n")) == ["probe-wrong-path"])
        #expect(try rules(try changed(Self.liveness, "tcpSocket: {port: 8080}\n")) == ["probe-not-on-vigil"])
    }

    @Test func missingProbes() throws {
        var yaml = try changed(
            "          readinessProbe:\n            \(Self.readiness)\n            periodSeconds: 2\n"
                + "            failureThreshold: 1\n", "")
        #expect(try rules(yaml) == ["readiness-probe-missing"])
        yaml = try changed("          livenessProbe:\n            \(Self.liveness)", "", in: yaml)
        #expect(try rules(yaml) == ["liveness-probe-missing", "readiness-probe-missing"])
    }

    @Test func identicalProbes() throws {
        let yaml = try changed(
            "          readinessProbe:\n            \(Self.readiness)\n            periodSeconds: 2\n"
                + "            failureThreshold: 1\n",
            "          readinessProbe:\n            httpGet: {path: /livez, port: vigil}\n")
        #expect(try rules(yaml) == ["probes-identical", "readiness-on-livez"])
    }

    @Test func aStartupProbeWhenACheckFeedsLiveness() throws {
        let yaml = try changed(
            "          startupProbe:\n            httpGet: {path: /startupz, port: vigil}\n"
                + "            periodSeconds: 2\n            failureThreshold: 60\n", "")
        let finding = try #require(try findings(yaml).first)
        #expect(finding.rule == "startup-probe-missing")
        // APP fails after 3 runs 5s apart (+1s timeout): 11s; then 3 liveness probes 10s apart: 31s.
        #expect(finding.message.contains("within about 31s"))
        // Without a check on liveness, a slow start cannot fail /livez: no startup probe needed.
        let readyOnly = try changed("\"startup,live,ready\"", "\"ready\"", in: yaml)
        #expect(try rules(readyOnly).isEmpty)
    }

    @Test func listenOffOrLoopbackIsUnreachable() throws {
        for listen in ["off", "127.0.0.1:7979"] {
            let yaml = try changed(
                "{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_LISTEN, value: \"\(listen)\"}")
            #expect(try rules(yaml).first == "vigil-listen-unreachable", "VIGIL_LISTEN=\(listen)")
        }
        // `vigil probe` runs in the container: loopback is fine for it.
        var exec = try changed(Self.liveness, "exec: {command: [vigil, probe, live]}\n")
        exec = try changed(Self.readiness, "exec: {command: [vigil, probe, ready]}", in: exec)
        exec = try changed(
            "httpGet: {path: /startupz, port: vigil}", "exec: {command: [vigil, probe, startup]}", in: exec)
        exec = try changed(
            "{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_LISTEN, value: \"127.0.0.1:7979\"}", in: exec)
        #expect(try rules(exec).isEmpty)
    }

    @Test func aMovedProbeServerMovesTheProbes() throws {
        var yaml = try changed("{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_LISTEN, value: \":9000\"}")
        #expect(try rules(yaml).allSatisfy { $0 == "probe-not-on-vigil" })
        yaml = try changed("{name: vigil, containerPort: 7979}", "{name: vigil, containerPort: 9000}", in: yaml)
        #expect(try rules(yaml).isEmpty)
    }

    @Test func jobsNeedNoProbes() throws {
        let job = """
            apiVersion: batch/v1
            kind: CronJob
            metadata: {name: nightly}
            spec:
              schedule: "0 3 * * *"
              jobTemplate:
                spec:
                  template:
                    spec:
                      containers:
                        - name: task
                          image: task:1
                          env: [{name: VIGIL_STOP_TIMEOUT, value: "5s"}]
                          livenessProbe: {httpGet: {path: /readyz, port: 7979}}
            """
        let found = try findings(job)
        #expect(found.map(\.rule) == ["liveness-on-readyz"])
        #expect(found.first?.field == "spec.jobTemplate.spec.template.spec.containers[0].livenessProbe.httpGet.path")
    }
}
