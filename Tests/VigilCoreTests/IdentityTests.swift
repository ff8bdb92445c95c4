import Testing

@testable import VigilCore

@Suite struct IdentityTests {
    func snapshot(version: String? = "v1.4.2", lastExit: Int32? = 143) -> AgentSnapshot {
        let moment = Moment(monotonicMilliseconds: 1_000, wallMilliseconds: 1_700_000_000_250)
        var health = HealthModel(checks: [], minReady: .zero, at: moment)
        _ = health.setProcessRunning(true, at: moment)
        var snapshot = AgentSnapshot(
            health: health, moment: moment, appPid: 42, restarts: 2, details: .local, admin: .local, adminToken: nil)
        snapshot.identity = Identity(
            appVersion: version, startedAtWallMilliseconds: 1_700_000_000_500, lastExitCode: lastExit)
        return snapshot
    }

    @Test func versionSetting() {
        #expect(ConfigurationParser.parse([:]).configuration.version == nil)
        let parsed = ConfigurationParser.parse(["VIGIL_VERSION": " blue-2024.06 (abc) "])
        #expect(parsed.problems.isEmpty && parsed.configuration.version == "blue-2024.06 (abc)")
        #expect(parsed.effective.contains { $0.name == "VIGIL_VERSION" && $0.source == .environment })
        let control = ConfigurationParser.parse(["VIGIL_VERSION": "v1\nv2"])
        #expect(
            control.problems.map(\.description) == [
                #"VIGIL_VERSION="v1\u{a}v2": must not hold control characters; example: VIGIL_VERSION=v1.4.2"#
            ])
        let long = ConfigurationParser.parse(["VIGIL_VERSION": String(repeating: "x", count: 129)])
        #expect(long.problems.first?.message == "longer than 128 bytes")
    }

    @Test func prometheusText() {
        let text = MetricsText.render(snapshot())
        #expect(
            text.contains(
                "# TYPE vigil_build_info gauge\nvigil_build_info{vigil_version=\"0.1.0\",app_version=\"v1.4.2\"} 1\n"))
        #expect(text.contains("# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1700000000.5\n"))
        #expect(text.contains("# TYPE vigil_app_last_exit_code gauge\nvigil_app_last_exit_code 143\n"))
        #expect(text.contains("# TYPE vigil_app_restarts_total counter\nvigil_app_restarts_total 2\n"))
        #expect(!text.contains("# EOF"))
        let unset = MetricsText.render(snapshot(version: "say \"hi\"\\", lastExit: nil))
        #expect(unset.contains(#"app_version="say \"hi\"\\"} 1"#))
        #expect(unset.contains("# TYPE vigil_app_last_exit_code gauge\n# HELP vigil_build_info"))
    }

    @Test func openMetricsText() {
        let text = MetricsText.render(snapshot(), openMetrics: true)
        #expect(text.hasSuffix("process_start_time_seconds 1700000000.5\n# EOF\n"))
        #expect(text.contains("# TYPE vigil_app_restarts counter\nvigil_app_restarts_total 2\n"))
        #expect(text.contains("# HELP vigil_app_restarts Times"))
        #expect(!text.contains("TYPE vigil_app_restarts_total"))
        let reply = EndpointRouter.reply(
            to: EndpointRequest(
                method: "GET", uri: "/metrics", isLoopback: false,
                accept: "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            snapshot: snapshot())
        #expect(reply.contentType == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        #expect(reply.body.hasSuffix("# EOF\n"))
        let plain = EndpointRouter.reply(
            to: EndpointRequest(method: "GET", uri: "/metrics", isLoopback: false, accept: "*/*"), snapshot: snapshot())
        #expect(plain.contentType == "text/plain; version=0.0.4; charset=utf-8")
    }

    @Test func statusTextAndJSON() {
        let text = StatusTable.render(snapshot(), showReasons: true)
        #expect(text.hasSuffix("draining: no  restarts: 2  version: v1.4.2\n"))
        #expect(StatusTable.render(snapshot(version: nil), showReasons: true).hasSuffix("restarts: 2\n"))
        let json = HealthJSON.render(snapshot(), probe: .ready, excluded: [], showReasons: true).rendered
        #expect(json.contains(#""restarts":2,"last_exit_code":143},"version":{"vigil":"0.1.0","app":"v1.4.2"}"#))
        let none = HealthJSON.render(
            snapshot(version: nil, lastExit: nil), probe: .ready, excluded: [], showReasons: true)
        #expect(none.rendered.contains(#""last_exit_code":null},"version":{"vigil":"0.1.0","app":null}"#))
    }
}
