import InMemoryLogging
import Logging
import NIOCore
import NIOEmbedded

@testable import VigilAgent
@testable import VigilCore

/// A logger whose lines the test reads back.
struct CapturedLog {
    let handler = InMemoryLogHandler()
    var logger: Logger {
        var logger = Logger(label: "vigil-test", factory: { [handler] _ in handler })
        logger.logLevel = .info
        return logger
    }
    var messages: [String] { handler.entries.map { "\($0.message)" } }
}

/// The probe server's host in these tests: a real `HealthMonitor` on the embedded loop, so the
/// answers come from the real health model; only the supervisor is absent.
final class MonitorHost: ProbeServerHost {
    let health: HealthMonitor
    init(_ health: HealthMonitor) { self.health = health }

    func snapshot() -> AgentSnapshot {
        AgentSnapshot(
            health: health.model, moment: health.now(), appPid: 42, restarts: 0, details: .local, admin: .local,
            adminToken: nil)
    }
    func passes(_ probe: Probe) -> Bool { health.passes(probe) }
    func perform(_ command: AdminCommand) { health.setDraining(command == .startDrain ? .manual : nil) }
}

/// A probe server on an `EmbeddedEventLoop`, whose connections are `EmbeddedChannel`s: requests go
/// in as bytes, answers come out as bytes, and time passes only when the test says so.
final class ProbeServerHarness {
    let loop = EmbeddedEventLoop()
    let log = CapturedLog()
    let health: HealthMonitor
    let host: MonitorHost
    let server: ProbeServer

    init(limits: ProbeServer.Limits = .init(), checks: [CheckSpec] = [], appRunning: Bool = true) {
        health = HealthMonitor(checks: checks, minReady: .zero, loop: loop, logger: log.logger)
        host = MonitorHost(health)
        server = ProbeServer(loop: loop, limits: limits, logger: log.logger)
        server.host = host
        if appRunning { health.setProcessRunning(true) }
    }

    func connect(from ip: String = "127.0.0.1") throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7979)).wait()
        // After connecting, which sets the remote address to the one connected to.
        channel.remoteAddress = try SocketAddress(ipAddress: ip, port: 40_000)
        try server.initialize(channel)
        return channel
    }

    /// Everything the server wrote on `channel` so far, as text.
    func received(on channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// Sends `request` and returns what came back.
    func exchange(_ request: String, on channel: EmbeddedChannel) throws -> String {
        try channel.writeInbound(ByteBuffer(string: request))
        return try received(on: channel)
    }
}

/// The parts of an HTTP/1.1 answer a test looks at.
struct Answer: Equatable {
    var statusLine: String
    var headers: [String: String]
    var body: String

    /// Splits a byte stream holding one or more answers to bodies of known length.
    static func parse(_ text: String) -> [Answer] {
        var answers: [Answer] = []
        var rest = Substring(text)
        while let end = rest.firstRange(of: "\r\n\r\n") {
            let lines = rest[..<end.lowerBound].split(separator: "\r\n", omittingEmptySubsequences: false)
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
            }
            rest = rest[end.upperBound...]
            let length = min(Int(headers["content-length"] ?? "0") ?? 0, rest.utf8.count)
            let bodyEnd = rest.utf8.index(rest.startIndex, offsetBy: length)
            answers.append(Answer(statusLine: String(lines[0]), headers: headers, body: String(rest[..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return answers
    }
}

func checkSpec(
    _ name: String, probes: Set<Probe> = [.ready], failures: Int = 1, interval: Duration = .seconds(1)
)
    -> CheckSpec
{
    var spec = CheckSpec(name: name, target: .tcp(host: "127.0.0.1", port: 1))
    spec.probes = probes
    spec.failures = failures
    spec.interval = interval
    spec.timeout = .milliseconds(500)
    spec.delay = .zero
    return spec
}

func passed(_ message: String = "connected") -> CheckResult {
    CheckResult(passed: true, message: message, duration: .milliseconds(1))
}

func failed(_ message: String = "connection refused") -> CheckResult {
    CheckResult(passed: false, message: message, duration: .milliseconds(1))
}
