import Testing

@testable import VigilCore

@Suite struct SupervisorStateMachineTests {
    func machine(_ environment: [String: String] = [:]) -> SupervisorStateMachine {
        var machine = SupervisorStateMachine(settings: .init(ConfigurationParser.parse(environment).configuration))
        #expect(machine.start() == [.spawn])
        _ = machine.handle(.started(pid: 10))
        return machine
    }

    @Test func sigtermDrainsThenStops() {
        var m = machine()
        let actions = m.handle(.stopRequested(by: 15, instanceReady: true))
        #expect(actions.contains(.setDraining))
        #expect(actions.contains(.schedule(.drainDelay, after: .seconds(5))))
        #expect(!actions.contains(.sendStopSignal(15, to: .group(10))))
        #expect(m.handle(.signal(2)) == [.forward(signal: 2, to: .group(10))])  // SIGINT still forwarded at once
        let stop = m.handle(.timerFired(.drainDelay))
        #expect(
            stop.contains(.sendStopSignal(15, to: .group(10)))
                && stop.contains(.schedule(.stopTimeout, after: .seconds(20))))
        #expect(m.handle(.timerFired(.stopTimeout)).first == .killGroup(10))
        let exited = m.handle(.childExited(.signaled(signal: 9), readyFor: .zero, at: 0))
        #expect(exited.contains(.terminateLeftovers(.everything(group: 10))))
        #expect(m.handle(.leftoversGone) == [.cancel(.cleanupBound), .exit(code: 137)])
    }

    @Test func notReadyMeansNoDrain() {
        var m = machine()
        let actions = m.handle(.stopRequested(by: 15, instanceReady: false))
        #expect(actions.contains(.sendStopSignal(15, to: .group(10))))
    }

    @Test func secondSigtermSkipsDrainThenKills() {
        var m = machine(["VIGIL_STOP_SIGNAL": "QUIT"])
        _ = m.handle(.stopRequested(by: 15, instanceReady: true))
        #expect(m.handle(.stopRequested(by: 15, instanceReady: false)).contains(.sendStopSignal(3, to: .group(10))))
        #expect(m.handle(.stopRequested(by: 15, instanceReady: false)).contains(.killGroup(10)))
    }

    @Test func connectionAwareDrain() {
        var m = machine(["VIGIL_DRAIN_PORTS": "8080", "VIGIL_DRAIN_TIMEOUT": "10s"])
        #expect(
            m.handle(.stopRequested(by: 15, instanceReady: true)).contains(
                .schedule(.drainTimeout, after: .seconds(10))))
        #expect(m.handle(.timerFired(.drainDelay)) == [.watchDrainConnections])
        #expect(m.handle(.connectionsClosed).contains(.sendStopSignal(15, to: .group(10))))
    }

    @Test func restartPolicyWithBackoff() {
        var m = machine(["VIGIL_RESTART": "on-failure", "VIGIL_RESTART_BACKOFF_MAX": "3s"])
        var delays: [Duration] = []
        for pid in Int32(11)...14 {
            _ = m.handle(.childExited(.exited(code: 1), readyFor: .zero, at: 0))
            for action in m.handle(.leftoversGone) {
                if case .schedule(.restartBackoff, let delay) = action { delays.append(delay) }
            }
            #expect(m.handle(.timerFired(.restartBackoff)) == [.spawn])
            _ = m.handle(.started(pid: pid))
        }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(3), .seconds(3)])
        #expect(m.restarts == 4)
        // A healthy run resets the backoff; a clean exit under on-failure ends vigil.
        _ = m.handle(.childExited(.exited(code: 1), readyFor: .seconds(60), at: 0))
        #expect(m.handle(.leftoversGone).contains(.schedule(.restartBackoff, after: .seconds(1))))
        _ = m.handle(.timerFired(.restartBackoff))
        _ = m.handle(.started(pid: 20))
        _ = m.handle(.childExited(.exited(code: 0), readyFor: .zero, at: 0))
        #expect(m.handle(.leftoversGone).last == .exit(code: 0))
    }

    @Test func restartOnFailedLiveness() {
        var m = machine(["VIGIL_RESTART_UNHEALTHY": "true"])
        #expect(m.handle(.livenessFailed(at: 0)).contains(.sendStopSignal(15, to: .group(10))))
        _ = m.handle(.childExited(.signaled(signal: 15), readyFor: .zero, at: 0))
        #expect(m.handle(.leftoversGone).contains(.schedule(.restartBackoff, after: .seconds(1))))
        #expect(m.restarts == 1)
        var plain = machine()
        #expect(plain.handle(.livenessFailed(at: 0)) == [])
    }

    @Test func signalTargetChildSendsToTheProcess() {
        var m = machine(["VIGIL_SIGNAL_TARGET": "child"])
        #expect(m.handle(.signal(10)) == [.forward(signal: 10, to: .process(10))])
    }

    @Test func aRestartWhoseSpawnFailsBacksOffWithoutCleanup() {
        var m = machine(["VIGIL_RESTART": "always"])
        _ = m.handle(.childExited(.exited(code: 0), readyFor: .zero, at: 0))
        _ = m.handle(.leftoversGone)
        #expect(m.handle(.timerFired(.restartBackoff)) == [.spawn])
        let failed = m.handle(.childExited(.spawnFailed(errno: 2), readyFor: .zero, at: 0))
        #expect(
            failed == [.log("restarting the app in 2s (restart 2)"), .schedule(.restartBackoff, after: .seconds(2))])
    }

    @Test func exitCodes() {
        #expect(Termination.exited(code: 3).exitCode == 3)
        #expect(Termination.signaled(signal: 15).exitCode == 143)
        #expect(Termination.spawnFailed(errno: 2).exitCode == 127)
        #expect(Termination.spawnFailed(errno: 13).exitCode == 126)
        var m = SupervisorStateMachine(settings: .init(Configuration()))
        _ = m.start()
        #expect(m.handle(.childExited(.spawnFailed(errno: 2), readyFor: .zero, at: 0)) == [.exit(code: 127)])
    }
}

@Suite struct DocumentationTests {
    @Test func configurationDocsNameEverySetting() throws {
        let path = #filePath.replacingOccurrences(
            of: "Tests/VigilCoreTests/SupervisorStateMachineTests.swift", with: "docs/configuration.md")
        let docs = try readText(path)
        for setting in Settings.global {
            #expect(docs.contains(setting.name), "\(setting.name) missing from docs/configuration.md")
        }
        for option in Settings.checkOptions {
            #expect(docs.contains("_\(option.name)"), "option \(option.name) missing")
        }
    }
}
