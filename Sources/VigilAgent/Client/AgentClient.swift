import NIOCore
import NIOHTTP1
import NIOPosix
import VigilCore

/// The operator's commands: `vigil probe`, `vigil status`, `vigil drain`, talking to the agent of
/// this container over loopback at `VIGIL_LISTEN`.
public enum AgentClient {
    public struct Answer: Sendable {
        public var status: Int
        public var body: String
    }

    public enum Failure: Error, CustomStringConvertible, Sendable {
        case serverOff
        case unreachable(String)

        public var description: String {
            switch self {
            case .serverOff: "the probe server is off (VIGIL_LISTEN=off)"
            case .unreachable(let reason): "cannot reach the vigil agent: \(reason)"
            }
        }
    }

    public enum Method: Sendable {
        case get, post, delete

        var http: HTTPMethod {
            switch self {
            case .get: .GET
            case .post: .POST
            case .delete: .DELETE
            }
        }
    }

    public static func request(
        _ method: Method, _ path: String, configuration: Configuration,
        timeout: Duration
    ) -> Result<Answer, Failure> {
        guard let listen = configuration.listen else { return .failure(.serverOff) }
        let host = listen.host.isEmpty || listen.host == "::" || listen.host == "0.0.0.0" ? "127.0.0.1" : listen.host
        let target = HTTPTarget(secure: false, host: host, port: listen.port, path: path)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        var headers: [(String, String)] = []
        if let token = configuration.adminToken { headers.append(("Authorization", "Bearer \(token)")) }
        if method != .get { headers.append((EndpointRequest.adminHeaderName, "vigil-cli")) }
        let headerList = headers
        let response = loop.flatSubmit {
            let resolver = AddressResolver(threadPool: { NIOThreadPool.singleton })
            return HTTPCheck.fetch(
                target, method: method.http, headers: headerList, resolver: resolver, on: loop, timeout: timeout,
                userAgent: "vigil-cli")
        }
        let timer = loop.makePromise(of: HTTPCheck.Response.self)
        loop.scheduleTask(in: .milliseconds(timeout.milliseconds)) {
            timer.fail(Failure.unreachable("no answer within \(DurationText.format(timeout))"))
        }
        response.cascade(to: timer)
        do {
            let answer = try timer.futureResult.wait()
            return .success(Answer(status: answer.status, body: answer.body))
        } catch let failure as Failure {
            return .failure(failure)
        } catch {
            return .failure(.unreachable(CheckExecutor.describe(error)))
        }
    }
}
