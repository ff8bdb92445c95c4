import NIOCore
import NIOPosix
import VigilCore
import VigilSystem

#if canImport(Glibc)
import Glibc
#endif

/// `vigil wait URL`: polls the instance's `/readyz?verbose` and `/status?format=json` until
/// `WaitGate` is satisfied (exit 0) or `--timeout` passes (exit 1, with what it last saw). One
/// progress line on stderr per change.
public enum WaitCommand {
    /// Time between polls.
    static let pollInterval: Duration = .milliseconds(250)
    /// The most one request may take.
    static let requestTimeout: Duration = .seconds(2)

    public static func run(_ request: WaitRequest) -> Int32 {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        var gate = WaitGate(readyFor: request.readyFor, version: request.version)
        let started = Clock.monotonicMilliseconds
        let deadline = started + request.timeout.milliseconds
        let shown = request.base.hostHeader
        say(
            "waiting for \(shown) to be ready\(request.version.map { " at version \($0)" } ?? "")"
                + " for \(DurationText.format(request.readyFor)) (timeout \(DurationText.format(request.timeout)))")
        while true {
            let observation = observe(request, on: loop)
            let now = Clock.monotonicMilliseconds
            let (line, verdict) = gate.observe(observation, at: now)
            if let line { say("\(elapsed(now - started)) \(line)") }
            if verdict == .done {
                let held = DurationText.format(gate.satisfiedFor(at: now))
                say("\(elapsed(now - started)) done: \(gate.lastSeen) for \(held)")
                return 0
            }
            if now >= deadline {
                let limit = DurationText.format(request.timeout)
                say("\(elapsed(now - started)) timed out after \(limit); last seen: \(gate.lastSeen)")
                return 1
            }
            let pause = min(pollInterval.milliseconds, max(0, deadline - now))
            usleep(useconds_t(pause * 1000))
        }
    }

    static func observe(_ request: WaitRequest, on loop: EventLoop) -> WaitGate.Observation {
        let ready: HTTPCheck.Response
        switch get(request.target("/readyz?verbose"), on: loop) {
        case .failure(let failure): return .unreachable(failure.reason)
        case .success(let response): ready = response
        }
        guard ready.status == 200 || ready.status == 503 else {
            return .unreachable("/readyz answered HTTP \(ready.status): not a vigil?")
        }
        var version: String? = nil
        if case .success(let status) = get(request.target("/status?format=json"), on: loop), status.status == 200 {
            version = WaitGate.appVersion(inStatusJSON: status.body)
        }
        return .answered(ready: ready.status == 200, reason: WaitGate.reason(fromVerbose: ready.body), version: version)
    }

    struct Unanswered: Error { var reason: String }

    static func get(_ target: HTTPTarget, on loop: EventLoop) -> Result<HTTPCheck.Response, Unanswered> {
        let timeout = requestTimeout
        let answer = loop.flatSubmit {
            let resolver = AddressResolver(threadPool: { NIOThreadPool.singleton })
            let response = HTTPCheck.fetch(
                target, resolver: resolver, on: loop, timeout: timeout, userAgent: "vigil-wait")
            let timer = loop.makePromise(of: HTTPCheck.Response.self)
            loop.scheduleTask(in: .milliseconds(timeout.milliseconds)) {
                timer.fail(AgentClient.Failure.unreachable("no answer within \(DurationText.format(timeout))"))
            }
            response.cascade(to: timer)
            return timer.futureResult
        }
        do {
            return .success(try answer.wait())
        } catch let failure as AgentClient.Failure {
            if case .unreachable(let reason) = failure { return .failure(Unanswered(reason: reason)) }
            return .failure(Unanswered(reason: "\(failure)"))
        } catch {
            return .failure(Unanswered(reason: CheckExecutor.describe(error)))
        }
    }

    static func elapsed(_ milliseconds: Int64) -> String {
        "[\(DurationText.format(.seconds(milliseconds / 1000)))]"
    }

    static func say(_ line: String) { Files.writeAll(2, Array("vigil: wait: \(line)\n".utf8)) }
}
