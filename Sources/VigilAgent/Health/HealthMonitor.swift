import Logging
import NIOCore
import VigilCore
import VigilSystem

/// The agent's side of the health model: feeds it inputs with the loop's clock, logs each
/// transition once, wakes it when the min-ready window ends, and tells the supervisor when
/// liveness fails. Event-loop confined, like every agent part.
final class HealthMonitor {
    private(set) var model: HealthModel
    private let loop: EventLoop
    private let logger: Logger
    private var minReadyTimer: Scheduled<Void>? = nil
    /// Set by the composition root: the supervisor's reaction to failed liveness.
    var onLivenessFailed: () -> Void = {}
    /// Set by the composition root: the front door closes connections while draining.
    var onDrainingChanged: (_ draining: Bool) -> Void = { _ in }

    init(checks: [CheckSpec], minReady: Duration, notify: NotifyFact? = nil, loop: EventLoop, logger: Logger) {
        self.loop = loop
        self.logger = logger
        self.model = HealthModel(checks: checks, minReady: minReady, notify: notify, at: Self.moment(on: loop))
    }

    /// The loop's monotonic clock (virtual under `EmbeddedEventLoop`) and the wall clock to show.
    static func moment(on loop: EventLoop) -> Moment {
        let monotonic = Int64(clamping: loop.now.uptimeNanoseconds / 1_000_000)
        return Moment(monotonicMilliseconds: monotonic, wallMilliseconds: Clock.wallMilliseconds)
    }

    func now() -> Moment { Self.moment(on: loop) }

    func passes(_ probe: Probe) -> Bool { model.passes(probe, at: now()) }

    var readyFor: Duration { model.readyFor(at: now()) }

    // MARK: - Inputs

    func record(_ result: CheckResult, forCheck index: Int) {
        apply(model.record(result, forCheck: index, at: now()))
    }

    func setProcessRunning(_ running: Bool) { apply(model.setProcessRunning(running, at: now())) }

    func setDraining(_ reason: DrainReason?) {
        let before = model.draining != nil
        apply(model.setDraining(reason, at: now()))
        if (model.draining != nil) != before { onDrainingChanged(model.draining != nil) }
    }

    func resetForRestart() { apply(model.resetForRestart(at: now())) }

    func notified(_ message: NotifyMessage) { apply(model.notified(message, at: now())) }

    // MARK: - Effects

    private func apply(_ events: [HealthEvent]) {
        for event in events {
            switch event {
            case .checkChanged(let name, let from, let to, let message):
                let metadata: Logger.Metadata = [
                    "check": "\(name)", "from": "\(from.rawValue)", "reason": "\(message)",
                ]
                let level: Logger.Level = to == .failing ? .warning : .info
                logger.log(level: level, "check \(name) is \(to.rawValue)", metadata: metadata)
            case .probeChanged(let probe, let passed):
                // While the app is down its exit was logged; the probes failing with it are no news.
                if model.processRunning || passed { logger.info("\(probe.rawValue) \(passed ? "passes" : "fails")") }
                // As kubelet: liveness counts only once startup completed (slow starters are not killed).
                if probe == .live && !passed && model.processRunning && model.startupComplete {
                    onLivenessFailed()
                }
            case .startupCompleted:
                logger.info("startup complete")
            }
        }
        scheduleMinReadyTick()
    }

    private func scheduleMinReadyTick() {
        minReadyTimer?.cancel()
        minReadyTimer = nil
        // MIN_READY's end or the sd_notify watchdog's, whichever comes first.
        let moment = now()
        guard let deadline = model.nextDeadline(at: moment) else { return }
        let delay = max(0, deadline - moment.monotonicMilliseconds) + 1
        minReadyTimer = loop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) {
            self.minReadyTimer = nil
            self.apply(self.model.tick(at: self.now()))
        }
    }
}
