import Testing

@testable import VigilCore

/// Values that once trapped inside PID 1, and the bounds that keep them out.
@Suite struct HostileInputTests {
    @Test(arguments: ["99999999999999999999", "9223372036854775", "8760h1s", "1e30", "100000000000h"])
    func hugeDurationsAreRefusedNotTrapped(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test func theLongestDurationIsAYear() {
        #expect(DurationText.parse("8760h") == DurationText.maximum)
        #expect(DurationText.parse("31536000") == DurationText.maximum)
        #expect(DurationText.problem("99999999999999999999") == "longer than 8760h, the longest duration vigil takes")
        #expect(DurationText.problem("soon") == "not a duration (use 500ms, 5s, 1m30s or a number of seconds)")
    }

    @Test(arguments: ["VIGIL_STOP_TIMEOUT", "VIGIL_DRAIN_DELAY", "VIGIL_DRAIN_TIMEOUT", "VIGIL_MIN_READY"])
    func hugeBareNumbersInSettingsAreProblems(_ name: String) {
        let parsed = ConfigurationParser.parse([name: "99999999999999999999"])
        #expect(
            parsed.problems.map(\.description) == [
                "\(name)=\"99999999999999999999\": longer than 8760h, the longest duration vigil takes; "
                    + "example: \(name)=\(Settings.setting(named: name)!.example)"
            ])
    }

    @Test func longValuesAreShownCutWithTheirLength() {
        let value = String(repeating: "x", count: 100_000)
        let problem = ConfigurationParser.parse(["VIGIL_LOG_FORMAT": value]).problems.first
        #expect(
            problem?.description == "VIGIL_LOG_FORMAT=\"\(String(repeating: "x", count: 64))…\" (100000 bytes): "
                + "not one of text, json; example: VIGIL_LOG_FORMAT=json")
    }

    @Test func controlCharactersInValuesAreEscaped() {
        let problem = ConfigurationParser.parse(["VIGIL_LOG_FORMAT": "a\nb\u{1b}[31m"]).problems.first
        #expect(problem?.description.hasPrefix(#"VIGIL_LOG_FORMAT="a\u{a}b\u{1b}[31m": "#) == true)
    }

    @Test func aTimeoutLongerThanTheIntervalIsAccepted() {
        let parsed = ConfigurationParser.parse([
            "VIGIL_CHECK_DB": "tcp://127.0.0.1:5432", "VIGIL_CHECK_DB_INTERVAL": "5s", "VIGIL_CHECK_DB_TIMEOUT": "10s",
        ])
        #expect(parsed.problems.isEmpty)
        #expect(parsed.configuration.checks.first?.timeout == .seconds(10))
    }

    @Test func procNetTCPWithOverlongHexFieldsIsSkippedNotTrapped() {
        let header = "  sl  local_address rem_address   st\n"
        let line = "   0: 0100007F:FFFFFFFFFFFFFFFFFFFFFF 0100007F:C350 01 00000000\n"
        let good = "   1: 0100007F:1F90 0100007F:C351 01 00000000\n"
        #expect(ProcNetTCP.establishedConnections(in: Array((header + line + good).utf8), localPorts: [8080]) == 1)
    }
}

@Suite struct ShutdownSignalTests {
    @Test func parsesAListOfSignals() {
        let parsed = ConfigurationParser.parse(["VIGIL_SHUTDOWN_SIGNALS": "TERM, SIGQUIT,2"])
        #expect(parsed.problems.isEmpty)
        #expect(parsed.configuration.shutdownSignals == [15, 3, 2])
        #expect(parsed.effective.first { $0.name == "VIGIL_SHUTDOWN_SIGNALS" }?.value == "SIGTERM,SIGQUIT,SIGINT")
    }

    @Test(arguments: ["", "TERM,", "CHLD", "KILL", "TERM,nope"])
    func refusesWhatCannotStopVigil(_ text: String) {
        let problems = ConfigurationParser.parse(["VIGIL_SHUTDOWN_SIGNALS": text]).problems
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("not a comma-separated list of signals") == true)
    }

    @Test func aShutdownSignalDrainsAndAnotherIsForwarded() {
        let configuration = ConfigurationParser.parse(["VIGIL_SHUTDOWN_SIGNALS": "QUIT"]).configuration
        var machine = SupervisorStateMachine(settings: .init(configuration))
        _ = machine.start()
        _ = machine.handle(.started(pid: 7))
        #expect(machine.isShutdownSignal(3) && !machine.isShutdownSignal(15))
        #expect(machine.handle(.signal(15)) == [.forward(signal: 15, to: .group(7))])
        let actions = machine.handle(.stopRequested(by: 3, instanceReady: true))
        #expect(actions.contains(.log("SIGQUIT: draining: readiness fails, the app keeps serving for 5s")))
    }
}

@Suite struct RestartBudgetTests {
    @Test func grantsUpToTheLimitWithinTheWindow() {
        var budget = RestartBudget(limit: 2, window: .seconds(10))
        let answers = [0, 1_000, 2_000, 10_001, 10_002].map { budget.grant(at: Int64($0)) }
        // The third is refused; at 10.001 s the first has left the window.
        #expect(answers == [true, true, false, true, false])
        #expect(budget.summary == "2 restarts within 10s")
    }

    @Test func noLimitGrantsAlways() {
        var budget = RestartBudget(limit: 0, window: .seconds(1))
        var granted = 0
        for time in 0..<1000 where budget.grant(at: Int64(time)) { granted += 1 }
        #expect(granted == 1000)
    }

    @Test func anExhaustedBudgetEndsVigilWithTheAppsCode() {
        let configuration = ConfigurationParser.parse([
            "VIGIL_RESTART": "always", "VIGIL_RESTART_LIMIT": "1", "VIGIL_RESTART_WINDOW": "1m",
        ]).configuration
        var machine = SupervisorStateMachine(settings: .init(configuration))
        _ = machine.start()
        _ = machine.handle(.started(pid: 7))
        _ = machine.handle(.childExited(.exited(code: 3), readyFor: .zero, at: 1_000))
        #expect(machine.handle(.leftoversGone).contains(.schedule(.restartBackoff, after: .seconds(1))))
        _ = machine.handle(.timerFired(.restartBackoff))
        _ = machine.handle(.started(pid: 8))
        let second = machine.handle(.childExited(.exited(code: 4), readyFor: .zero, at: 5_000))
        #expect(
            second.contains(
                .log("the app was restarted 1 restart within 1m (VIGIL_RESTART_LIMIT): not restarting it again")))
        #expect(machine.handle(.leftoversGone) == [.cancel(.cleanupBound), .exit(code: 4)])
        #expect(machine.restarts == 1)
    }

    @Test func failedLivenessPastTheBudgetStopsInsteadOfRestarting() {
        let configuration = ConfigurationParser.parse([
            "VIGIL_RESTART_UNHEALTHY": "true", "VIGIL_RESTART_LIMIT": "1",
        ]).configuration
        var machine = SupervisorStateMachine(settings: .init(configuration))
        _ = machine.start()
        _ = machine.handle(.started(pid: 7))
        #expect(machine.handle(.livenessFailed(at: 0)).contains(.log("liveness failed: restarting the app")))
        _ = machine.handle(.childExited(.signaled(signal: 15), readyFor: .zero, at: 10))
        _ = machine.handle(.leftoversGone)
        _ = machine.handle(.timerFired(.restartBackoff))
        _ = machine.handle(.started(pid: 8))
        let actions = machine.handle(.livenessFailed(at: 20))
        #expect(actions.contains(.log("liveness failed: stopping the app")))
        _ = machine.handle(.childExited(.signaled(signal: 15), readyFor: .zero, at: 30))
        #expect(machine.handle(.leftoversGone).last == .exit(code: 143))
    }
}

@Suite struct CountersAcrossRestartsTests {
    @Test func runsAndFailuresNeverGoBackwards() {
        var spec = CheckSpec(name: "db", target: .tcp(host: "127.0.0.1", port: 1))
        spec.failures = 1
        var model = HealthModel(checks: [spec], minReady: .zero, at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        _ = model.record(fail(), forCheck: 0, at: at(1))
        _ = model.record(pass(), forCheck: 0, at: at(2))
        _ = model.resetForRestart(at: at(3))
        #expect(model.checks[0].status == .pending)
        #expect(model.checks[0].runs == 2 && model.checks[0].failedRuns == 1)
        _ = model.record(fail(), forCheck: 0, at: at(4))
        #expect(model.checks[0].runs == 3 && model.checks[0].failedRuns == 2)
    }
}
