import NIOCore
import NIOEmbedded
import Testing

@testable import VigilAgent
@testable import VigilCore

/// The agent's loop-confined parts on virtual time: what they log, when, and what they report.
@Suite struct HealthMonitorTests {
    @Test func eachTransitionIsLoggedOnce() {
        let loop = EmbeddedEventLoop()
        let log = CapturedLog()
        let monitor = HealthMonitor(
            checks: [checkSpec("db", failures: 2)], minReady: .zero, loop: loop, logger: log.logger)
        monitor.setProcessRunning(true)
        monitor.record(passed(), forCheck: 0)
        monitor.record(passed(), forCheck: 0)
        monitor.record(failed(), forCheck: 0)
        monitor.record(failed(), forCheck: 0)
        monitor.record(failed(), forCheck: 0)
        monitor.record(passed(), forCheck: 0)
        #expect(
            log.messages == [
                "live passes", "check db is passing", "startup complete", "startup passes", "ready passes",
                "check db is failing", "ready fails", "check db is passing", "ready passes",
            ])
        #expect(log.handler.entries[5].level == .warning)
        #expect(log.handler.entries[5].metadata["reason"] == "connection refused")
    }

    @Test func minReadyPassesWhenTheWindowEndsWithNoOtherInput() {
        let loop = EmbeddedEventLoop()
        let log = CapturedLog()
        let monitor = HealthMonitor(checks: [checkSpec("db")], minReady: .seconds(10), loop: loop, logger: log.logger)
        monitor.setProcessRunning(true)
        monitor.record(passed(), forCheck: 0)
        #expect(!monitor.passes(.ready))
        loop.advanceTime(by: .milliseconds(9_990))
        #expect(!log.messages.contains("ready passes"))
        loop.advanceTime(by: .milliseconds(20))
        #expect(log.messages.filter { $0 == "ready passes" }.count == 1)
        #expect(monitor.passes(.ready))
        loop.advanceTime(by: .seconds(2))
        #expect(monitor.readyFor >= .seconds(2))
    }

    @Test func failedLivenessIsReportedOnlyAfterStartup() {
        let loop = EmbeddedEventLoop()
        let monitor = HealthMonitor(
            checks: [checkSpec("warm", probes: [.startup]), checkSpec("alive", probes: [.live])], minReady: .zero,
            loop: loop, logger: CapturedLog().logger)
        var reports = 0
        monitor.onLivenessFailed = { reports += 1 }
        monitor.setProcessRunning(true)
        let alive = monitor.model.index(ofCheck: "alive")!
        let warm = monitor.model.index(ofCheck: "warm")!
        monitor.record(failed(), forCheck: alive)
        #expect(reports == 0, "a slow starter is not restarted")
        monitor.record(passed(), forCheck: alive)
        monitor.record(passed(), forCheck: warm)
        monitor.record(failed(), forCheck: alive)
        monitor.record(failed(), forCheck: alive)
        #expect(reports == 1)
    }
}

@Suite struct CheckSchedulerTests {
    /// A runner whose runs the test completes by hand.
    final class ManualRuns {
        let loop: EmbeddedEventLoop
        var pending: [EventLoopPromise<CheckResult>] = []
        init(_ loop: EmbeddedEventLoop) { self.loop = loop }
        func run(_ spec: CheckSpec) -> EventLoopFuture<CheckResult> {
            let promise = loop.makePromise(of: CheckResult.self)
            pending.append(promise)
            return promise.futureResult
        }
    }

    @Test func aRunFromBeforeARestartRecordsNothing() {
        let loop = EmbeddedEventLoop()
        let health = HealthMonitor(checks: [checkSpec("db")], minReady: .zero, loop: loop, logger: CapturedLog().logger)
        let runs = ManualRuns(loop)
        let scheduler = CheckScheduler(loop: loop, health: health, logger: CapturedLog().logger, runner: runs.run)
        scheduler.start()
        loop.run()
        #expect(runs.pending.count == 1)
        scheduler.appRestarted()
        runs.pending.removeFirst().succeed(failed())
        #expect(health.model.checks[0].runs == 0)
        loop.advanceTime(by: .seconds(1))
        #expect(runs.pending.count == 1, "the schedule goes on")
        runs.pending.removeFirst().succeed(passed())
        #expect(health.model.checks[0].runs == 1)
        #expect(health.model.checks[0].status == .passing)
    }

    @Test func theNextRunStartsOneIntervalAfterThePreviousStarted() {
        let loop = EmbeddedEventLoop()
        var spec = checkSpec("db", interval: .seconds(2))
        spec.delay = .milliseconds(500)
        let health = HealthMonitor(checks: [spec], minReady: .zero, loop: loop, logger: CapturedLog().logger)
        let runs = ManualRuns(loop)
        CheckScheduler(loop: loop, health: health, logger: CapturedLog().logger, runner: runs.run).start()
        loop.advanceTime(by: .milliseconds(499))
        #expect(runs.pending.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(runs.pending.count == 1)
        loop.advanceTime(by: .milliseconds(300))
        runs.pending.removeFirst().succeed(passed())
        loop.advanceTime(by: .milliseconds(1_699))
        #expect(runs.pending.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(runs.pending.count == 1)
    }

    @Test func startIntervalUntilTheFirstPassThenInterval() {
        let loop = EmbeddedEventLoop()
        var spec = checkSpec("db", interval: .seconds(10))
        spec.startInterval = .milliseconds(200)
        let health = HealthMonitor(checks: [spec], minReady: .zero, loop: loop, logger: CapturedLog().logger)
        let runs = ManualRuns(loop)
        CheckScheduler(loop: loop, health: health, logger: CapturedLog().logger, runner: runs.run).start()
        loop.run()
        runs.pending.removeFirst().succeed(failed())
        loop.advanceTime(by: .milliseconds(200))
        #expect(runs.pending.count == 1, "START_INTERVAL while the check has not passed")
        runs.pending.removeFirst().succeed(passed())
        loop.advanceTime(by: .milliseconds(9_999))
        #expect(runs.pending.isEmpty, "INTERVAL once it passed")
        loop.advanceTime(by: .milliseconds(1))
        #expect(runs.pending.count == 1)
        runs.pending.removeFirst().succeed(failed())
        loop.advanceTime(by: .milliseconds(200))
        #expect(runs.pending.isEmpty, "a later failure keeps INTERVAL")
        health.resetForRestart()
        loop.advanceTime(by: .milliseconds(9_800))
        runs.pending.removeFirst().succeed(failed())
        loop.advanceTime(by: .milliseconds(200))
        #expect(runs.pending.count == 1, "START_INTERVAL again after the app restarted")
    }
}

@Suite struct CheckSpreadTests {
    @Test func firstRunsAreSpreadByAtMostFiftyMilliseconds() {
        let offsets = (0..<12).map { CheckScheduler.firstRunOffset(index: $0, of: 12, interval: .seconds(5)) }
        #expect(offsets.first == .zero && offsets.last == .milliseconds(550))
        #expect(Set(offsets).count == 12)
        // A short interval spreads them within it.
        #expect(CheckScheduler.firstRunOffset(index: 3, of: 4, interval: .milliseconds(100)) == .milliseconds(75))
    }
}
