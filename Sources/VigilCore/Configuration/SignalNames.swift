/// Signal names and numbers on Linux (x86_64 and aarch64 share these), kept here so that parsing
/// `VIGIL_STOP_SIGNAL` and naming signals in logs needs no system call.
public enum SignalNames {
    public static let table: [(name: String, number: Int32)] = [
        ("HUP", 1), ("INT", 2), ("QUIT", 3), ("ILL", 4), ("TRAP", 5), ("ABRT", 6), ("BUS", 7),
        ("FPE", 8), ("KILL", 9), ("USR1", 10), ("SEGV", 11), ("USR2", 12), ("PIPE", 13),
        ("ALRM", 14), ("TERM", 15), ("STKFLT", 16), ("CHLD", 17), ("CONT", 18), ("STOP", 19),
        ("TSTP", 20), ("TTIN", 21), ("TTOU", 22), ("URG", 23), ("XCPU", 24), ("XFSZ", 25),
        ("VTALRM", 26), ("PROF", 27), ("WINCH", 28), ("IO", 29), ("PWR", 30), ("SYS", 31),
    ]

    /// Accepts `SIGQUIT`, `QUIT`, `quit`, `3`, and `SIGRTMIN+N` style names are not accepted.
    public static func parse(_ text: String) -> Int32? {
        let text = text.trimmingASCIIWhitespace()
        if let number = Int32(text) {
            return (1...64).contains(number) && number != 9 && number != 19 ? number : nil
        }
        var upper = text.uppercased()
        if upper.hasPrefix("SIG") { upper.removeFirst(3) }
        guard let number = table.first(where: { $0.name == upper })?.number else { return nil }
        return number == 9 || number == 19 ? nil : number
    }

    public static func name(_ number: Int32) -> String {
        if let name = table.first(where: { $0.number == number })?.name { return "SIG" + name }
        return "signal \(number)"
    }
}
