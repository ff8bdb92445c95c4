/// `VIGIL_NOTIFY` and `VIGIL_NOTIFY_WATCHDOG` (the app's sd_notify readiness and watchdog), and
/// `VIGIL_USER`: the settings about the app's process itself.
extension ConfigurationParser {
    /// Sets one of the notify settings; the problem's message when the value is bad.
    mutating func applyNotify(_ name: String, _ value: String) -> String? {
        switch name {
        case "VIGIL_NOTIFY":
            guard let flag = BooleanText.parse(value) else { return "not true or false" }
            configuration.notify = flag
        case "VIGIL_NOTIFY_WATCHDOG":
            guard let parsed = DurationText.parse(value) else { return DurationText.problem(value) }
            guard parsed == .zero || parsed >= .milliseconds(100) else { return "must be 0s (off) or at least 100ms" }
            configuration.notifyWatchdog = parsed == .zero ? nil : parsed
        case "VIGIL_NOTIFY_FD":
            guard !value.isEmpty else { return nil }
            guard let fd = Int32(value), (3...1023).contains(fd) else {
                return "not a descriptor number from 3 to 1023 (0, 1 and 2 are the app's standard streams)"
            }
            configuration.notifyFD = fd
        case "VIGIL_USER":
            guard !value.isEmpty else { return nil }
            guard let spec = UserSpec.parse(value) else {
                return "not a user (use a name, a uid, name:group or uid:gid)"
            }
            configuration.user = spec
        default:
            break
        }
        return nil
    }

    mutating func validateNotify() {
        if configuration.notifyWatchdog != nil && !configuration.notify {
            problems.append(
                ConfigurationProblem(
                    variable: "VIGIL_NOTIFY_WATCHDOG", value: environment["VIGIL_NOTIFY_WATCHDOG"],
                    message: "the watchdog needs VIGIL_NOTIFY=true", example: "VIGIL_NOTIFY=true"))
        }
    }
}
