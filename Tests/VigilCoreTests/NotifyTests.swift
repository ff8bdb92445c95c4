import Testing

@testable import VigilCore

@Suite struct NotifyTests {
    func at(_ milliseconds: Int64) -> Moment {
        Moment(monotonicMilliseconds: milliseconds, wallMilliseconds: milliseconds)
    }

    func message(_ text: String) -> NotifyMessage { NotifyMessage.parse(Array(text.utf8)) }

    @Test func parsesAssignmentsAndIgnoresTheRest() {
        let parsed = message(
            "READY=1\nSTATUS=Serving 12\u{1}requests\nnonsense\nWATCHDOG=1\nEXTEND_TIMEOUT_USEC=5000000\nMAINPID=77\n")
        #expect(parsed.ready && parsed.watchdogPing && !parsed.reloading && !parsed.stopping)
        #expect(parsed.status == "Serving 12 requests")
        #expect(parsed.extendTimeout == .seconds(5) && parsed.mainPid == 77)
        #expect(message("READY=0").ready == false)
        #expect(message("WATCHDOG=trigger").watchdogTrigger)
        #expect(message("STATUS=" + String(repeating: "x", count: 1000)).status?.count == NotifyMessage.statusLimit)
        #expect(message("EXTEND_TIMEOUT_USEC=-1\nMAINPID=0").extendTimeout == nil)
        #expect(message("") == NotifyMessage())
    }

    @Test func readyCompletesStartupAndReloadingFailsReadiness() {
        var model = HealthModel(checks: [], minReady: .zero, notify: NotifyFact(watchdog: nil), at: at(0))
        _ = model.setProcessRunning(true, at: at(0))
        #expect(!model.startupComplete && !model.passes(.ready, at: at(1)) && model.passes(.live, at: at(1)))
        #expect(
            model.evaluate(.ready, item: "notify", at: at(1))
                == ProbeItem(name: "notify", passed: false, reason: "waiting for READY=1"))
        let events = model.notified(message("READY=1\nSTATUS=warming up"), at: at(5))
        #expect(events.contains(.startupCompleted) && events.contains(.probeChanged(.ready, passed: true)))
        #expect(model.notify?.status == "warming up")
        _ = model.notified(message("RELOADING=1"), at: at(6))
        #expect(!model.passes(.ready, at: at(6)) && model.startupComplete && model.passes(.startup, at: at(6)))
        #expect(model.evaluate(.ready, item: "notify", at: at(6))?.reason == "reloading (RELOADING=1)")
        _ = model.notified(message("READY=1"), at: at(7))
        #expect(model.passes(.ready, at: at(7)))
        _ = model.notified(message("STOPPING=1"), at: at(8))
        #expect(model.draining == .appStopping && !model.passes(.ready, at: at(8)))
        _ = model.setDraining(nil, at: at(9))
        #expect(model.draining == .appStopping, "DELETE /drain does not cancel the app's own stop")
        _ = model.setDraining(.shuttingDown, at: at(10))
        #expect(model.draining == .shuttingDown)
        // A restart waits for READY=1 again.
        var restarted = HealthModel(checks: [], minReady: .zero, notify: NotifyFact(watchdog: nil), at: at(0))
        _ = restarted.setProcessRunning(true, at: at(0))
        _ = restarted.notified(message("READY=1"), at: at(1))
        _ = restarted.setProcessRunning(false, at: at(2))
        _ = restarted.resetForRestart(at: at(3))
        _ = restarted.setProcessRunning(true, at: at(4))
        #expect(!restarted.passes(.ready, at: at(5)) && !restarted.startupComplete)
    }

    @Test func theWatchdogFeedsLiveness() {
        var model = HealthModel(checks: [], minReady: .zero, notify: NotifyFact(watchdog: .seconds(2)), at: at(0))
        _ = model.setProcessRunning(true, at: at(1_000))
        _ = model.notified(message("READY=1"), at: at(1_100))
        #expect(model.nextDeadline(at: at(1_100)) == 3_000)
        #expect(model.passes(.live, at: at(2_999)))
        #expect(model.tick(at: at(3_000)).contains(.probeChanged(.live, passed: false)))
        #expect(model.evaluate(.live, item: "watchdog", at: at(3_000))?.reason == "no WATCHDOG=1 within 2s")
        #expect(model.notified(message("WATCHDOG=1"), at: at(3_500)).contains(.probeChanged(.live, passed: true)))
        #expect(model.nextDeadline(at: at(3_500)) == 5_500)
        _ = model.notified(message("EXTEND_TIMEOUT_USEC=10000000"), at: at(4_000))
        #expect(model.nextDeadline(at: at(4_000)) == 14_000)
        _ = model.notified(message("WATCHDOG=trigger"), at: at(4_100))
        #expect(!model.passes(.live, at: at(4_100)) && model.nextDeadline(at: at(4_100)) == nil)
        #expect(model.evaluate(.live, item: "watchdog", at: at(4_100))?.reason?.contains("WATCHDOG=trigger") == true)
        _ = model.notified(message("WATCHDOG=1"), at: at(4_200))
        #expect(!model.passes(.live, at: at(4_200)), "a trigger holds until the app restarts")
    }

    @Test func settings() {
        let parsed = ConfigurationParser.parse(["VIGIL_NOTIFY": "yes", "VIGIL_NOTIFY_WATCHDOG": "30s"])
        #expect(parsed.problems.isEmpty && parsed.configuration.notify)
        #expect(parsed.configuration.notifyWatchdog == .seconds(30))
        #expect(ConfigurationParser.parse([:]).configuration.notifyWatchdog == nil)
        let lonely = ConfigurationParser.parse(["VIGIL_NOTIFY_WATCHDOG": "30s"])
        #expect(
            lonely.problems.map(\.description) == [
                #"VIGIL_NOTIFY_WATCHDOG="30s": the watchdog needs VIGIL_NOTIFY=true; example: VIGIL_NOTIFY=true"#
            ])
        #expect(ConfigurationParser.parse(["VIGIL_NOTIFY": "maybe"]).problems.first?.message == "not true or false")
        let short = ConfigurationParser.parse(["VIGIL_NOTIFY": "1", "VIGIL_NOTIFY_WATCHDOG": "10ms"])
        #expect(short.problems.first?.message == "must be 0s (off) or at least 100ms")
        #expect(ConfigurationParser.parse(["VIGIL_CHECK_NOTIFY": "tcp://127.0.0.1:1"]).problems.count == 1)
        let descriptor = ConfigurationParser.parse(["VIGIL_NOTIFY_FD": "3"]).configuration
        #expect(descriptor.notifyFD == 3 && descriptor.announcesReadiness && !descriptor.notify)
        #expect(ConfigurationParser.parse(["VIGIL_NOTIFY_FD": "1024"]).problems.count == 1)
        #expect(ConfigurationParser.parse([:]).configuration.announcesReadiness == false)
    }
}
