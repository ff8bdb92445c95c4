import Testing

@testable import VigilCore

/// Every state × event pair of the supervisor: the pairs that act are listed with the state they
/// lead to and their actions; every other pair must leave the state alone and do nothing.
@Suite struct SupervisorTransitionTableTests {
    typealias Machine = SupervisorStateMachine
    typealias State = Machine.State
    typealias Event = Machine.Event
    typealias Action = Machine.Action

    struct Row {
        var state: State
        var event: Event
        var next: State
        var actions: [Action]
    }

    static let exit1 = Termination.exited(code: 1)
    static let settings = Machine.Settings(
        ConfigurationParser.parse([
            "VIGIL_RESTART": "on-failure", "VIGIL_RESTART_UNHEALTHY": "true",
            "VIGIL_DRAIN_PORTS": "8080", "VIGIL_DRAIN_TIMEOUT": "30s",
        ]).configuration)

    static let states: [State] = [
        .idle, .running(pid: 10), .draining(pid: 10, watching: false), .draining(pid: 10, watching: true),
        .stopping(pid: 10, thenRestart: false), .stopping(pid: 10, thenRestart: true),
        .cleaningUp(group: 10, after: exit1, thenRestart: false, stopping: true),
        .cleaningUp(group: 10, after: exit1, thenRestart: true, stopping: false),
        .waitingToRestart(last: exit1), .exited(code: 1),
    ]

    static let events: [Event] =
        [
            .started(pid: 11), .childExited(exit1, readyFor: .zero, at: 0), .stopRequested(by: 15, instanceReady: true),
            .stopRequested(by: 15, instanceReady: false), .signal(1),
        ] + Machine.Timer.allCases.map { .timerFired($0) } + [
            .connectionsClosed, .leftoversGone, .livenessFailed(at: 0),
        ]

    static let stop: [Action] = [.sendStopSignal(15, to: .group(10)), .schedule(.stopTimeout, after: .seconds(20))]
    static func cleanUp(_ leftovers: Machine.Leftovers) -> [Action] {
        [.terminateLeftovers(leftovers), .schedule(.cleanupBound, after: .seconds(2)), .watchUntilGone(leftovers)]
    }
    static let beforeRestart = cleanUp(.group(10))
    static let beforeExit = cleanUp(.everything(group: 10))
    static let drainMessage =
        "SIGTERM: draining: readiness fails, the app keeps serving for 5s, then until no request is in flight on "
        + "the drain ports (at most 30s in all)"

    static var rows: [Row] {
        var rows: [Row] = [
            Row(state: .idle, event: .started(pid: 11), next: .running(pid: 11), actions: []),
            Row(
                state: .idle, event: .childExited(exit1, readyFor: .zero, at: 0), next: .exited(code: 1),
                actions: [.exit(code: 1)]),
            Row(
                state: .running(pid: 10), event: .stopRequested(by: 15, instanceReady: true),
                next: .draining(pid: 10, watching: false),
                actions: [
                    .schedule(.drainTimeout, after: .seconds(30)), .log(drainMessage), .setDraining,
                    .schedule(.drainDelay, after: .seconds(5)),
                ]),
            Row(
                state: .running(pid: 10), event: .stopRequested(by: 15, instanceReady: false),
                next: .stopping(pid: 10, thenRestart: false),
                actions: [.setDraining, .log("SIGTERM: not ready, so no traffic to drain: stopping the app")] + stop),
            Row(
                state: .running(pid: 10), event: .childExited(exit1, readyFor: .zero, at: 0),
                next: .cleaningUp(group: 10, after: exit1, thenRestart: true, stopping: false),
                actions: [.log("app exited with code 1")] + beforeRestart),
            Row(
                state: .running(pid: 10), event: .livenessFailed(at: 0), next: .stopping(pid: 10, thenRestart: true),
                actions: [.log("liveness failed: restarting the app")] + stop),
            Row(
                state: .draining(pid: 10, watching: false), event: .timerFired(.drainDelay),
                next: .draining(pid: 10, watching: true), actions: [.watchDrainConnections]),
            Row(
                state: .draining(pid: 10, watching: true), event: .connectionsClosed,
                next: .stopping(pid: 10, thenRestart: false),
                actions: [
                    .cancel(.drainTimeout), .log("drain: no request in flight: stopping the app"),
                ] + stop),
            Row(
                state: .cleaningUp(group: 10, after: exit1, thenRestart: false, stopping: true),
                event: .timerFired(.cleanupBound), next: .exited(code: 1),
                actions: [.killLeftovers(.everything(group: 10)), .exit(code: 1)]),
            Row(
                state: .cleaningUp(group: 10, after: exit1, thenRestart: false, stopping: true),
                event: .leftoversGone, next: .exited(code: 1), actions: [.cancel(.cleanupBound), .exit(code: 1)]),
            Row(
                state: .cleaningUp(group: 10, after: exit1, thenRestart: true, stopping: false),
                event: .timerFired(.cleanupBound), next: .waitingToRestart(last: exit1),
                actions: [
                    .killLeftovers(.group(10)), .log("restarting the app in 1s (restart 0)"),
                    .schedule(.restartBackoff, after: .seconds(1)),
                ]),
            Row(
                state: .cleaningUp(group: 10, after: exit1, thenRestart: true, stopping: false),
                event: .leftoversGone, next: .waitingToRestart(last: exit1),
                actions: [
                    .cancel(.cleanupBound), .log("restarting the app in 1s (restart 0)"),
                    .schedule(.restartBackoff, after: .seconds(1)),
                ]),
            Row(state: .waitingToRestart(last: exit1), event: .started(pid: 11), next: .running(pid: 11), actions: []),
            Row(
                state: .waitingToRestart(last: exit1), event: .childExited(exit1, readyFor: .zero, at: 0),
                next: .waitingToRestart(last: exit1),
                actions: [
                    .log("restarting the app in 1s (restart 1)"), .schedule(.restartBackoff, after: .seconds(1)),
                ]),
            Row(
                state: .waitingToRestart(last: exit1), event: .timerFired(.restartBackoff),
                next: .waitingToRestart(last: exit1), actions: [.spawn]),
        ]
        let running: [State] = [
            .running(pid: 10), .draining(pid: 10, watching: false), .draining(pid: 10, watching: true),
            .stopping(pid: 10, thenRestart: false), .stopping(pid: 10, thenRestart: true),
        ]
        for state in running {
            rows.append(
                Row(state: state, event: .signal(1), next: state, actions: [.forward(signal: 1, to: .group(10))]))
        }
        for watching in [false, true] {
            let draining = State.draining(pid: 10, watching: watching)
            rows.append(
                Row(
                    state: draining, event: .timerFired(.drainTimeout), next: .stopping(pid: 10, thenRestart: false),
                    actions: [.cancel(.drainDelay), .log("drain timeout (30s) reached: stopping the app")] + stop))
            rows.append(
                Row(
                    state: draining, event: .childExited(exit1, readyFor: .zero, at: 0),
                    next: .cleaningUp(group: 10, after: exit1, thenRestart: false, stopping: true),
                    actions: [
                        .cancel(.drainDelay), .cancel(.drainTimeout), .log("app exited with code 1 while draining"),
                    ]
                        + beforeExit))
        }
        for ready in [true, false] {
            let sigterm = Event.stopRequested(by: 15, instanceReady: ready)
            for watching in [false, true] {
                rows.append(
                    Row(
                        state: .draining(pid: 10, watching: watching), event: sigterm,
                        next: .stopping(pid: 10, thenRestart: false),
                        actions: [
                            .cancel(.drainDelay), .cancel(.drainTimeout),
                            .log("second SIGTERM: skipping the rest of the drain"),
                        ] + stop))
            }
            rows.append(
                Row(
                    state: .stopping(pid: 10, thenRestart: false), event: sigterm,
                    next: .stopping(pid: 10, thenRestart: false),
                    actions: [
                        .cancel(.stopTimeout), .killGroup(10), .log("second SIGTERM: killing the app's process group"),
                    ]))
            rows.append(
                Row(
                    state: .stopping(pid: 10, thenRestart: true), event: sigterm,
                    next: .stopping(pid: 10, thenRestart: false),
                    actions: [.setDraining, .log("SIGTERM during a restart: the app will not be started again")]))
            rows.append(
                Row(
                    state: .cleaningUp(group: 10, after: exit1, thenRestart: true, stopping: false), event: sigterm,
                    next: .cleaningUp(group: 10, after: exit1, thenRestart: false, stopping: true),
                    actions: [
                        .setDraining, .terminateLeftovers(.everything(group: 10)),
                        .watchUntilGone(.everything(group: 10)),
                    ]))
            rows.append(
                Row(
                    state: .waitingToRestart(last: exit1), event: sigterm, next: .exited(code: 1),
                    actions: [
                        .cancel(.restartBackoff), .setDraining, .log("SIGTERM while waiting to restart: exiting"),
                        .exit(code: 1),
                    ]))
        }
        for thenRestart in [false, true] {
            let stopping = State.stopping(pid: 10, thenRestart: thenRestart)
            rows.append(
                Row(
                    state: stopping, event: .timerFired(.stopTimeout), next: stopping,
                    actions: [.killGroup(10), .log("the app did not stop within 20s: killing its process group")]))
            rows.append(
                Row(
                    state: stopping, event: .childExited(exit1, readyFor: .zero, at: 0),
                    next: .cleaningUp(group: 10, after: exit1, thenRestart: thenRestart, stopping: !thenRestart),
                    actions: [.cancel(.stopTimeout), .log("app exited with code 1")]
                        + (thenRestart ? beforeRestart : beforeExit)))
        }
        return rows
    }

    @Test func theTableNamesEachActingPairOnce() {
        let rows = Self.rows
        for (index, row) in rows.enumerated() {
            let duplicates = rows[(index + 1)...].filter { $0.state == row.state && $0.event == row.event }
            #expect(duplicates.isEmpty, "\(row.state) × \(row.event) is listed twice")
            #expect(Self.states.contains(row.state) && Self.events.contains(row.event))
        }
    }

    @Test(arguments: states)
    func everyEventInState(_ state: State) {
        let rows = Self.rows
        for event in Self.events {
            var machine = Machine(settings: Self.settings)
            machine.state = state
            let actions = machine.handle(event)
            let row = rows.first { $0.state == state && $0.event == event }
            #expect(machine.state == (row?.next ?? state), "\(state) × \(event): state")
            #expect(actions == (row?.actions ?? []), "\(state) × \(event): actions")
        }
    }
}
