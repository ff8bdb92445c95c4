import Testing

@testable import VigilLintCore

@Suite struct TerminationRuleTests {
    @Test(arguments: [
        (35, "10s", "20s", [String]()),
        (34, "10s", "20s", ["grace-period-no-margin"]),
        (30, "10s", "20s", ["grace-period-no-margin"]),
        (29, "10s", "20s", ["grace-period-too-short"]),
        (30, "15s", "20s", ["grace-period-too-short"]),
        (60, "1m", "500ms", ["grace-period-too-short"]),
        (61, "1m", "500ms", ["grace-period-no-margin"]),
        (66, "1m", "500ms", []),
    ])
    func graceAgainstDrainAndStop(_ grace: Int, _ drain: String, _ stop: String, _ expected: [String]) throws {
        var yaml = try changed("terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: \(grace)")
        yaml = try changed("value: \"10s\"}", "value: \"\(drain)\"}", in: yaml)
        yaml = try changed("value: \"20s\"}", "value: \"\(stop)\"}", in: yaml)
        #expect(try rules(yaml) == expected)
    }

    @Test func theDefaultGracePeriodIs30() throws {
        let yaml = try changed("      terminationGracePeriodSeconds: 35\n", "")
        let finding = try #require(try findings(yaml).first)
        #expect(finding.rule == "grace-period-no-margin")
        #expect(finding.message.hasPrefix("terminationGracePeriodSeconds 30 (the default)"))
        #expect(finding.fix == "terminationGracePeriodSeconds: 35")
    }

    @Test func drainPortsUseTheDrainTimeout() throws {
        let yaml = try changed(
            "{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_DRAIN_PORTS, value: \"8080\"}")
        let finding = try #require(try findings(yaml).first)
        #expect(finding.message.contains("VIGIL_DRAIN_TIMEOUT 30s + VIGIL_STOP_TIMEOUT 20s = 50s"))
    }

    @Test func aPreStopSleepCountsAndIsReported() throws {
        let yaml = try changed(
            "image: web:1", "image: web:1\n          lifecycle: {preStop: {sleep: {seconds: 10}}}")
        let found = try findings(yaml)
        #expect(found.map(\.rule) == ["grace-period-too-short", "prestop-and-drain"])
        #expect(found[0].message.contains("preStop sleep 10s + VIGIL_DRAIN_DELAY 10s + VIGIL_STOP_TIMEOUT 20s = 40s"))
        let shell = try changed(
            "image: web:1", "image: web:1\n          lifecycle: {preStop: {exec: {command: [sh, -c, sleep 5]}}}")
        #expect(try findings(shell).first?.message.contains("preStop sleep 5s") == true)
    }

    @Test func aPreStopHookWithoutVigilsDrainIsTheDesign() throws {
        var yaml = try changed("value: \"10s\"}", "value: \"0s\"}")
        yaml = try changed(
            "image: web:1", "image: web:1\n          lifecycle: {preStop: {sleep: {seconds: 10}}}", in: yaml)
        #expect(try rules(yaml).isEmpty)  // 10s + 0s + 20s = 30s, within 35s with the margin
    }

    @Test func stopSignals() throws {
        let usr1 = try changed("image: web:1", "image: web:1\n          lifecycle: {stopSignal: SIGUSR1}")
        #expect(
            try findings(usr1).first?.message.contains("SIGUSR1 is not a shutdown signal of vigil (SIGTERM)") == true)
        var drained = try changed(
            "{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_SHUTDOWN_SIGNALS, value: \"SIGTERM,SIGUSR1\"}",
            in: usr1)
        drained = try changed("terminationGracePeriodSeconds: 35", "terminationGracePeriodSeconds: 30", in: drained)
        #expect(try rules(drained).isEmpty)
    }
}
