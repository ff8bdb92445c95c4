import NIOCore

/// Why the door could not reach the app for a request or tunnel.
enum DoorFailure: Error, Equatable {
    /// The app refused or reset while it should be up: 502.
    case unreachable(String)
    /// The app did not come back within `VIGIL_PROXY_TIMEOUT`: 503.
    case notBack
    /// Too many requests already wait for the app: 503.
    case queueFull
}

/// Opens a connection to the app for one request or tunnel. While the app is down for a
/// restart (or still starting), a refused connection is tried again every 50 ms until the
/// deadline, so the request waits instead of failing; while it should be up, a refusal is
/// tried once more (nothing of the request reached the app) and then reported. Event-loop confined.
final class DoorDispatch<Connection> {
    static var retryInterval: TimeAmount { .milliseconds(50) }

    private unowned let door: FrontDoor
    private let deadline: NIODeadline
    private let connect: () -> EventLoopFuture<Connection>
    private var waiting = false
    private var retried = false
    private var cancelled = false
    private var retry: Scheduled<Void>? = nil
    private var done: (Result<Connection, DoorFailure>) -> Void = { _ in }

    init(door: FrontDoor, deadline: NIODeadline, connect: @escaping () -> EventLoopFuture<Connection>) {
        self.door = door
        self.deadline = deadline
        self.connect = connect
    }

    func run(_ done: @escaping (Result<Connection, DoorFailure>) -> Void) {
        self.done = done
        attempt()
    }

    /// The client went away: stop trying.
    func cancel() {
        cancelled = true
        retry?.cancel()
        stopWaiting()
    }

    private func attempt() {
        connect().assumeIsolated().whenComplete { result in
            guard !self.cancelled else {
                if case .success(let connection) = result, let channel = connection as? Channel {
                    channel.close(promise: nil)
                }
                return
            }
            switch result {
            case .success(let connection):
                self.door.appAnswered()
                self.finish(.success(connection))
            case .failure(let error):
                self.failed(error)
            }
        }
    }

    private func failed(_ error: Error) {
        let loop = door.loop
        if !door.appExpectedUp {
            if !waiting {
                guard door.mayWait else { return finish(.failure(.queueFull)) }
                waiting = true
                door.waitingChanged(by: 1)
            }
            guard loop.now + Self.retryInterval < deadline else { return finish(.failure(.notBack)) }
            retry = loop.assumeIsolated().scheduleTask(in: Self.retryInterval) { self.attempt() }
        } else if !retried {
            retried = true
            attempt()
        } else {
            finish(.failure(.unreachable(CheckExecutor.describe(error))))
        }
    }

    private func finish(_ result: Result<Connection, DoorFailure>) {
        stopWaiting()
        let done = self.done
        self.done = { _ in }
        done(result)
    }

    private func stopWaiting() {
        if waiting {
            waiting = false
            door.waitingChanged(by: -1)
        }
    }
}
