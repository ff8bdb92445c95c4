import Foundation
import Synchronization
import VigilLintCore

/// Work on threads of our own: each with a large stack (Yams builds its trees recursively, which
/// dispatch's small worker stacks would not survive), the results in input order.
struct ThreadSplitter: WorkSplitter {
    let workers: Int

    init(workers: Int = min(8, ProcessInfo.processInfo.activeProcessorCount)) { self.workers = max(1, workers) }

    func map<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
        guard count > 1 else { return (0..<count).map(body) }
        let results = Locked<[Int: T]>([:])
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            let thread = Thread {
                let result = body(index)
                results.withLock { $0[index] = result }
                group.leave()
            }
            thread.stackSize = 256 << 20
            thread.start()
        }
        group.wait()
        return results.withLock { done in (0..<count).map { done[$0]! } }
    }
}

/// A value shared between threads behind a `Mutex`, in a class so that closures can capture it.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result: Sendable>(_ body: (inout Value) -> Result) -> Result {
        mutex.withLock { body(&$0) }
    }
}
