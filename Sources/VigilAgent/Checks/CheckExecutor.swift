import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import VigilCore
import VigilSystem

typealias VigilSystemFiles = Files

/// Runs one check once and reports a `CheckResult` within the check's timeout, whatever the
/// target does: the timeout closes connections and kills exec groups.
final class CheckExecutor {
    let loop: EventLoop
    let resolver: AddressResolver
    let processes: ExecCheckProcesses

    init(loop: EventLoop, resolver: AddressResolver, processes: ExecCheckProcesses) {
        self.loop = loop
        self.resolver = resolver
        self.processes = processes
    }

    func run(_ spec: CheckSpec) -> EventLoopFuture<CheckResult> {
        let started = Clock.monotonicMilliseconds
        let promise = loop.makePromise(of: (Bool, String).self)
        var cancel: () -> Void = {}
        switch spec.target {
        case .http(let target):
            cancel = HTTPCheck.run(target, spec: spec, resolver: resolver, on: loop, promise: promise)
        case .grpc(let target):
            cancel = GRPCCheck.run(target, spec: spec, resolver: resolver, on: loop, promise: promise)
        case .tcp(let host, let port):
            let loop = self.loop
            let connectTimeout = TimeAmount.milliseconds(spec.timeout.milliseconds)
            let connection = resolver.resolve(host: host, port: port, on: loop).flatMap { address in
                ClientBootstrap(group: loop).connectTimeout(connectTimeout).connect(to: address)
            }
            Self.passWhenConnected(connection, promise: promise)
        case .unix(let path):
            let connection = ClientBootstrap(group: loop).connectTimeout(.milliseconds(spec.timeout.milliseconds))
                .connect(unixDomainSocketPath: path)
            Self.passWhenConnected(connection, promise: promise)
        case .exec(let arguments):
            cancel = processes.run(arguments, on: loop, promise: promise)
        case .file(let path):
            switch Files.modificationTime(path) {
            case .failure(let error):
                promise.succeed((false, error.errno == 2 ? "\(path) does not exist" : "\(error)"))
            case .success(let modified):
                if let maxAge = spec.maxAge {
                    let age = Clock.wallMilliseconds - modified
                    if age > maxAge.milliseconds {
                        promise.succeed(
                            (
                                false,
                                "\(path) last modified \(DurationText.format(.milliseconds(age / 1000 * 1000))) ago, "
                                    + "more than \(DurationText.format(maxAge))"
                            ))
                    } else {
                        promise.succeed(
                            (true, "\(path) modified \(DurationText.format(.milliseconds(age / 1000 * 1000))) ago"))
                    }
                } else {
                    promise.succeed((true, "\(path) exists"))
                }
            }
        }
        let timeout = loop.assumeIsolated().scheduleTask(in: .milliseconds(spec.timeout.milliseconds)) {
            promise.succeed((false, "timed out after \(DurationText.format(spec.timeout))"))
            cancel()
        }
        return promise.futureResult.assumeIsolated().map { passed, message in
            timeout.cancel()
            let elapsed = Duration.milliseconds(Clock.monotonicMilliseconds - started)
            return CheckResult(passed: passed, message: message, duration: elapsed)
        }.nonisolated()
    }

    /// tcp:// and unix:// checks pass when a connection opens; it is closed at once.
    private static func passWhenConnected(
        _ connection: EventLoopFuture<Channel>, promise: EventLoopPromise<(Bool, String)>
    ) {
        connection.whenComplete { result in
            switch result {
            case .success(let channel):
                channel.close(promise: nil)
                promise.succeed((true, "connected"))
            case .failure(let error):
                promise.succeed((false, describe(error)))
            }
        }
    }

    /// A sentence for a failed check's reason or a log line: no Swift type names, no file paths.
    static func describe(_ error: Error) -> String {
        switch error {
        case let error as IOError:
            // ENOENT only comes from connecting to a unix socket path.
            return error.errnoCode == 2 ? "no such socket" : ErrorText.errno(error.errnoCode)
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error) }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return describe(dns) }
            return "cannot connect to \(error.host)"
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return "connect timed out"
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return "connection closed"
            default: return "connection failed"
            }
        case let error as SocketAddressError:
            if case .unknown(let host, _) = error { return "cannot resolve host \(host)" }
            return "bad address"
        case is NIOSSLError, is BoringSSLError:
            return "TLS handshake failed"
        case is HTTPParserError:
            return "invalid HTTP response"
        case is any NIOHTTP2Error:
            return "HTTP/2 protocol error (not an HTTP/2 server?)"
        case let error as CustomStringConvertible:
            return error.description
        default:
            return "failed"
        }
    }
}
