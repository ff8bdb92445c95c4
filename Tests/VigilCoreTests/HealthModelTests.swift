import Testing

@testable import VigilCore

func at(_ ms: Int64) -> Moment { Moment(monotonicMilliseconds: ms, wallMilliseconds: 1_700_000_000_000 + ms) }
func pass(_ message: String = "HTTP 200") -> CheckResult {
    CheckResult(passed: true, message: message, duration: .milliseconds(3))
}
func fail(_ message: String = "connection refused") -> CheckResult {
    CheckResult(passed: false, message: message, duration: .milliseconds(3))
}

func spec(_ name: String, probes: Set<Probe> = [.ready], failures: Int = 3, successes: Int = 1) -> CheckSpec {
    var spec = CheckSpec(name: name, target: .tcp(host: "127.0.0.1", port: 1))
    spec.probes = probes
    spec.failures = failures
    spec.successes = successes
    return spec
}

@Suite struct HealthModelTests {
    @Test func noChecksIsReadyOnceTheAppRuns() {
        var model = HealthModel(checks: [], minReady: .zero, at: at(0))
        #expect(!model.evaluate(.ready, at: at(0)).passed)
        let events = model.setProcessRunning(true, at: at(1))
        #expect(events.contains(.probeChanged(.ready, passed: true)))
        #expect(model.evaluate(.ready, at: at(1)).passed)
        #expect(model.evaluate(.live, at: at(1)).passed)
    }

    @Test func startingStatesFollowKubelet() {
        var model = HealthModel(checks: [spec("db", probes: [.ready, .live])], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        // Not run yet: failing for readiness and startup, passing for liveness.
        #expect(!model.evaluate(.ready, at: at(0)).passed)
        #expect(!model.evaluate(.startup, at: at(0)).passed)
        #expect(model.evaluate(.live, at: at(0)).passed)
        #expect(
            model.evaluate(.ready, at: at(0)).items.last == ProbeItem(name: "db", passed: false, reason: "not run yet"))
    }

    @Test func failureThresholdAndRecovery() {
        var model = HealthModel(checks: [spec("db", failures: 2, successes: 2)], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        _ = model.record(pass(), forCheck: 0, at: at(1))
        _ = model.record(pass(), forCheck: 0, at: at(2))
        #expect(model.checks[0].status == .passing)
        #expect(model.evaluate(.ready, at: at(2)).passed)
        #expect(model.record(fail(), forCheck: 0, at: at(3)).isEmpty)  // one failure: still passing
        let events = model.record(fail(), forCheck: 0, at: at(4))
        #expect(events.first == .checkChanged(name: "db", from: .passing, to: .failing, message: "connection refused"))
        #expect(events.contains(.probeChanged(.ready, passed: false)))
        _ = model.record(pass(), forCheck: 0, at: at(5))
        #expect(model.checks[0].status == .failing)  // needs two successes
        _ = model.record(pass(), forCheck: 0, at: at(6))
        #expect(model.checks[0].status == .passing)
        #expect(model.checks[0].runs == 6 && model.checks[0].failedRuns == 2)
        #expect(model.checks[0].lastTransition == at(6))
    }

    @Test func livenessNeverFailsBecauseOfAReadinessCheck() {
        var model = HealthModel(checks: [spec("db", failures: 1)], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        _ = model.record(fail(), forCheck: 0, at: at(1))
        #expect(!model.evaluate(.ready, at: at(1)).passed)
        #expect(model.evaluate(.live, at: at(1)).passed)
    }

    @Test func startupLatchesOnceEveryStartupAndReadinessCheckPassed() {
        var model = HealthModel(checks: [spec("warm", probes: [.startup]), spec("db")], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        let db = model.index(ofCheck: "db")!
        let warm = model.index(ofCheck: "warm")!
        _ = model.record(pass(), forCheck: db, at: at(1))
        #expect(!model.evaluate(.startup, at: at(1)).passed)
        let events = model.record(pass(), forCheck: warm, at: at(2))
        #expect(events.contains(.startupCompleted))
        _ = model.record(fail(), forCheck: db, at: at(3))
        _ = model.record(fail(), forCheck: db, at: at(4))
        _ = model.record(fail(), forCheck: db, at: at(5))
        #expect(model.evaluate(.startup, at: at(5)).passed)
        #expect(!model.evaluate(.ready, at: at(5)).passed)
    }

    @Test func minReadyHoldsReadinessBack() {
        var model = HealthModel(checks: [spec("db")], minReady: .seconds(10), at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        _ = model.record(pass(), forCheck: 0, at: at(1000))
        #expect(model.nextDeadline(at: at(1000)) == 11_000)
        #expect(model.readyFor(at: at(4000)) == .zero)
        let verdict = model.evaluate(.ready, at: at(4000))
        #expect(!verdict.passed)
        #expect(verdict.items.first { $0.name == "min-ready" }?.reason == "ready for 3s of 10s")
        #expect(model.tick(at: at(11_000)) == [.probeChanged(.ready, passed: true)])
        #expect(model.nextDeadline(at: at(11_000)) == nil)
        #expect(model.readyFor(at: at(11_500)) == .milliseconds(500))
        // A failure restarts the window.
        _ = model.record(fail(), forCheck: 0, at: at(12_000))
        _ = model.record(fail(), forCheck: 0, at: at(12_001))
        _ = model.record(fail(), forCheck: 0, at: at(12_002))
        _ = model.record(pass(), forCheck: 0, at: at(13_000))
        #expect(!model.evaluate(.ready, at: at(20_000)).passed)
        #expect(model.evaluate(.ready, at: at(23_000)).passed)
    }

    @Test func drainingFailsReadinessOnly() {
        var model = HealthModel(checks: [], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        _ = model.setDraining(.manual, at: at(1))
        #expect(
            model.evaluate(.ready, at: at(1)).items.first { $0.name == "draining" }?.reason == "drained by operator")
        #expect(model.evaluate(.live, at: at(1)).passed)
        _ = model.setDraining(.shuttingDown, at: at(2))
        _ = model.setDraining(nil, at: at(3))  // DELETE /drain cannot cancel a shutdown
        #expect(model.draining == .shuttingDown)
    }
}

@Suite struct HealthTextTests {
    func model() -> HealthModel {
        var model = HealthModel(checks: [spec("db", failures: 1), spec("cache")], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        _ = model.record(pass(), forCheck: 0, at: at(1))
        _ = model.record(pass(), forCheck: 1, at: at(1))
        _ = model.record(fail("dial tcp: connection refused"), forCheck: 1, at: at(2))
        return model
    }

    @Test func kubeApiserverFormat() {
        let verdict = model().evaluate(.ready, at: at(2))
        #expect(
            HealthText.render(verdict, excluded: [], verbose: false, showReasons: true).body == """
                [+]process ok
                [+]startup ok
                [+]draining ok
                [+]cache ok
                [-]db failed: dial tcp: connection refused
                readyz check failed

                """)
        #expect(
            HealthText.render(verdict, excluded: [], verbose: false, showReasons: false).body.contains(
                "[-]db failed: reason withheld\n"))
        let excluded = HealthText.render(verdict, excluded: ["db", "nope"], verbose: false, showReasons: true)
        #expect(excluded.passed)
        #expect(excluded.body == "ok")
        let verbose = HealthText.render(verdict, excluded: ["db", "nope"], verbose: true, showReasons: true)
        #expect(
            verbose.body.hasSuffix(
                "[+]db excluded: ok\n"
                    + "warn: some health checks cannot be excluded: no matches for \"nope\"\nreadyz check passed\n"
            ))
    }

    @Test func routerAnswersProbesAndRefusesAdmin() {
        let snapshot = AgentSnapshot(
            health: model(), moment: at(2), appPid: 42, restarts: 0, details: .local, admin: .local, adminToken: nil)
        let remote = EndpointRouter.reply(
            to: EndpointRequest(method: "GET", uri: "/readyz", isLoopback: false), snapshot: snapshot)
        #expect(remote.status == 503)
        #expect(remote.body.contains("[-]db failed: reason withheld"))
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "GET", uri: "/livez", isLoopback: false), snapshot: snapshot
            ).body == "ok")
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "GET", uri: "/readyz/cache", isLoopback: false), snapshot: snapshot
            ).body == "ok")
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "GET", uri: "/readyz/zzz", isLoopback: true), snapshot: snapshot
            ).status == 404)
        let post = EndpointRouter.reply(
            to: EndpointRequest(method: "POST", uri: "/readyz", isLoopback: true), snapshot: snapshot)
        #expect(post.status == 405 && post.headers["Allow"] == "GET, HEAD")
        let drain = EndpointRouter.reply(
            to: EndpointRequest(method: "POST", uri: "/drain", isLoopback: false), snapshot: snapshot)
        #expect(drain.status == 403 && drain.command == nil)
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "POST", uri: "/drain", isLoopback: true), snapshot: snapshot
            ).command == nil, "loopback without the admin header: a forged request")
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "POST", uri: "/drain", isLoopback: true, adminHeader: "1"),
                snapshot: snapshot
            ).command == .startDrain)
        var tokenSnapshot = snapshot
        tokenSnapshot.admin = .token
        tokenSnapshot.adminToken = "t0k"
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "DELETE", uri: "/drain", isLoopback: false, authorization: "Bearer t0k"),
                snapshot: tokenSnapshot
            ).command == .cancelDrain)
        #expect(
            EndpointRouter.reply(
                to: EndpointRequest(method: "DELETE", uri: "/drain", isLoopback: true, authorization: "Bearer nope"),
                snapshot: tokenSnapshot
            ).status == 403)
    }

    @Test func metricsAndJSON() {
        let snapshot = AgentSnapshot(
            health: model(), moment: at(2), appPid: 42, restarts: 1, details: .local, admin: .local, adminToken: nil)
        let metrics = MetricsText.render(snapshot)
        #expect(metrics.contains("vigil_check_up{check=\"db\"} 0\n"))
        #expect(metrics.contains("vigil_check_up{check=\"cache\"} 1\n"))
        #expect(metrics.contains("# TYPE vigil_app_restarts_total counter\nvigil_app_restarts_total 1\n"))
        #expect(metrics.contains("vigil_ready 0\n") && metrics.contains("vigil_live 1\n"))
        let json = HealthJSON.render(snapshot, probe: .ready, excluded: [], showReasons: false).rendered
        #expect(
            json.hasPrefix(
                #"{"probe":"ready","status":"fail","items":[{"name":"process","status":"pass","reason":null}"#))
        #expect(json.contains(#""reason":"reason withheld""#))
        #expect(JSONValue.string("a\"b\n\u{1}").rendered == #""a\"b\n\u0001""#)
        #expect(Timestamps.rfc3339(millisecondsSinceEpoch: 1_700_000_000_123) == "2023-11-14T22:13:20.123Z")
    }

    @Test func procNetTCP() {
        let text = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
               1: 0100007F:1F90 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 2 1
               2: 0100007F:D2F0 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1
            """
        #expect(ProcNetTCP.establishedConnections(in: text, localPorts: [8080]) == 1)
        #expect(ProcNetTCP.establishedConnections(in: text, localPorts: [9090]) == 0)
    }
}

@Suite struct BareProbeTests {
    @Test func onlyExactProbePathsTakeTheFastPath() {
        #expect(EndpointRouter.bareProbe("/readyz") == .ready)
        #expect(EndpointRouter.bareProbe("/ready") == .ready)
        #expect(EndpointRouter.bareProbe("/healthz") == .live)
        #expect(EndpointRouter.bareProbe("/startupz") == .startup)
        #expect(EndpointRouter.bareProbe("/readyz?verbose") == nil)
        #expect(EndpointRouter.bareProbe("/readyz/db") == nil)
        #expect(EndpointRouter.bareProbe("/metrics") == nil)
        #expect(EndpointRouter.bareProbe("/readyz", accept: "application/json") == nil)
        #expect(EndpointRouter.bareProbe("/readyz", accept: "*/*") == .ready)
    }
}
