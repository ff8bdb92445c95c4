import Logging
import NIOCore
import VigilCore

/// Runs every check on its own schedule: the first run after its DELAY, the next one INTERVAL
/// (START_INTERVAL until it first passed) after the previous one started (or at once when it ran
/// longer). Results go to the health monitor, unless the app restarted while the run was in
/// flight: each run carries the generation it started in, and a stale one records nothing into
/// the new app's health.
final class CheckScheduler {
    typealias Runner = (CheckSpec) -> EventLoopFuture<CheckResult>

    private let loop: EventLoop
    private let health: HealthMonitor
    private let logger: Logger
    private let runner: Runner
    /// Bumped by `appRestarted`.
    private(set) var generation = 0
    private var stopped = false

    init(loop: EventLoop, health: HealthMonitor, logger: Logger, runner: @escaping Runner) {
        self.loop = loop
        self.health = health
        self.logger = logger
        self.runner = runner
    }

    /// The most the first runs of consecutive checks are set apart.
    static let spreadStep: Duration = .milliseconds(50)

    func start() {
        // Indices follow the health model's order, which is the one `record` takes.
        let checks = health.model.checks
        for (index, check) in checks.enumerated() {
            let spec = check.spec
            let offset = Self.firstRunOffset(index: index, of: checks.count, interval: spec.interval(hasPassed: false))
            loop.assumeIsolated().scheduleTask(in: .milliseconds((spec.delay + offset).milliseconds)) {
                self.runOnce(index, spec)
            }
        }
    }

    /// Spreads first runs (and so every later one) so that a dozen checks against one app do not
    /// connect in the same millisecond: check `index` starts this much after its DELAY.
    static func firstRunOffset(index: Int, of count: Int, interval: Duration) -> Duration {
        min(spreadStep, interval / max(count, 1)) * index
    }

    /// The app was started again: results of runs already under way belong to the old one.
    func appRestarted() { generation += 1 }

    /// vigil is leaving: no run starts after this.
    func stop() { stopped = true }

    private func runOnce(_ index: Int, _ spec: CheckSpec) {
        guard !stopped else { return }
        let started = loop.now
        let generation = self.generation
        runner(spec).assumeIsolated().whenSuccess { result in
            if generation == self.generation {
                self.logger.debug(
                    "check \(spec.name) ran", metadata: ["passed": "\(result.passed)", "message": "\(result.message)"])
                self.health.record(result, forCheck: index)
            } else {
                self.logger.debug("check \(spec.name): dropped a run that started before the app restarted")
            }
            // START_INTERVAL until the check has passed since the app (re)started.
            let interval = spec.interval(hasPassed: self.health.model.checks[index].hasPassed)
            let wait = max(.zero, .milliseconds(interval.milliseconds) - (self.loop.now - started))
            self.loop.assumeIsolated().scheduleTask(in: wait) { self.runOnce(index, spec) }
        }
    }
}
