#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An errno-carrying error from a system call.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// Runs a system call, retrying while it fails with EINTR; the one place vigil handles EINTR.
@discardableResult
public func retryingEINTR<T: BinaryInteger>(_ call: String, _ body: () -> T) throws(SystemError) -> T {
    while true {
        let result = body()
        if result != -1 { return result }
        let error = Glibc.errno
        if error == EINTR { continue }
        throw SystemError(call, errno: error)
    }
}

public enum Clock {
    static func milliseconds(_ clock: clockid_t) -> Int64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    public static var monotonicMilliseconds: Int64 { milliseconds(CLOCK_MONOTONIC) }
    public static var wallMilliseconds: Int64 { milliseconds(CLOCK_REALTIME) }
}

public enum Files {
    /// Reads a whole (small) file, such as /proc/net/tcp. nil when it cannot be opened.
    public static func read(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        guard let fd = try? retryingEINTR("open", { open(path, O_RDONLY | O_CLOEXEC) }) else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let count = buffer.withUnsafeMutableBytes { raw in
                try? retryingEINTR("read", { Glibc.read(fd, raw.baseAddress, raw.count) })
            }
            guard let count, count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }

    /// Modification time in milliseconds since the epoch, or the errno when stat fails.
    public static func modificationTime(_ path: String) -> Result<Int64, SystemError> {
        var info = stat()
        do {
            try retryingEINTR("stat") { stat(path, &info) }
        } catch {
            return .failure(error)
        }
        return .success(Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000)
    }

    /// Writes all of `bytes` to a descriptor (stderr log lines), retrying short writes.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { raw in
                try? retryingEINTR("write", { Glibc.write(fd, raw.baseAddress, raw.count) })
            }
            guard let written, written > 0 else { return }
            offset += written
        }
    }
}

public enum ErrorText {
    /// `connection refused`: strerror, starting lower-case to sit inside a sentence.
    public static func errno(_ code: Int32) -> String {
        var text = String(cString: strerror(code))
        if let first = text.first, first.isUppercase, !(text.dropFirst().first?.isUppercase ?? false) {
            text = first.lowercased() + text.dropFirst()
        }
        return text
    }
}
