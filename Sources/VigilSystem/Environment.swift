import CVigilSystem

#if canImport(Glibc)
import Glibc
#endif

public enum ProcessEnvironment {
    /// The environment as a dictionary (the first of duplicate names wins, as getenv does).
    public static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals])
                if result[name] == nil { result[name] = String(text[text.index(after: equals)...]) }
            }
            pointer += 1
        }
        return result
    }
}

public enum ProcessArguments {
    /// The command line, read from what the C start-up code was given: `CommandLine.arguments`
    /// comes from /proc/self/cmdline in a static binary, and is empty without /proc.
    public static func current() -> [String] {
        var count: Int32 = 0
        guard let argv = cvigil_arguments(&count), count > 0 else { return CommandLine.arguments }
        return (0..<Int(count)).map { argv[$0].map { String(cString: $0) } ?? "" }
    }
}
