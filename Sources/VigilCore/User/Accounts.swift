/// `VIGIL_USER=name|uid[:group|gid]`, resolved against /etc/passwd and /etc/group read directly
/// (a static binary has no NSS). Pure: the files' text comes in.
public struct UserSpec: Sendable, Equatable {
    public var user: String
    public var group: String?

    /// `app`, `1000`, `app:staff`, `1000:1000`; nil when malformed.
    public static func parse(_ text: String) -> UserSpec? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && Accounts.isName($0) }) else {
            return nil
        }
        return UserSpec(user: parts[0], group: parts.count == 2 ? parts[1] : nil)
    }
}

/// Who vigil, the app and exec checks run as.
public struct ResolvedUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// Supplementary groups: the primary one and every group of /etc/group that lists the user.
    public var groups: [UInt32]
    public var home: String
    public var name: String?
}

public struct UserProblem: Error, Equatable, Sendable {
    public var message: String

    public init(message: String) { self.message = message }
}

public enum Accounts {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var id: UInt32
        /// passwd: the primary gid; group: unused.
        public var gid: UInt32
        /// passwd: the home directory; group: the members, comma-separated.
        public var field: String
    }

    /// `name:x:uid:gid:gecos:home:shell` lines (passwd) or `name:x:gid:members` (group); comments,
    /// blank and malformed lines are skipped.
    public static func parse(_ text: String, passwd: Bool) -> [Entry] {
        var entries: [Entry] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if passwd {
                guard fields.count >= 7, let uid = UInt32(fields[2]), let gid = UInt32(fields[3]) else { continue }
                entries.append(Entry(name: fields[0], id: uid, gid: gid, field: fields[5]))
            } else {
                guard fields.count >= 4, let gid = UInt32(fields[2]) else { continue }
                entries.append(Entry(name: fields[0], id: gid, gid: gid, field: fields[3]))
            }
        }
        return entries
    }

    static func isName(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == 95 || byte == 45 || byte == 46 || byte == 36
        }
    }

    /// The user and group, or the message of a configuration problem. A numeric uid need not be
    /// in /etc/passwd (its group is then the same number, its home `/`); a name must be.
    public static func resolve(_ spec: UserSpec, passwd: String, group: String) -> Result<ResolvedUser, UserProblem> {
        let users = parse(passwd, passwd: true)
        let groups = parse(group, passwd: false)
        let entry =
            users.first { $0.name == spec.user } ?? UInt32(spec.user).flatMap { id in users.first { $0.id == id } }
        var resolved: ResolvedUser
        if let entry {
            resolved = ResolvedUser(uid: entry.id, gid: entry.gid, groups: [], home: entry.field, name: entry.name)
        } else if let uid = UInt32(spec.user), uid < UInt32.max {
            resolved = ResolvedUser(uid: uid, gid: uid, groups: [], home: "/", name: nil)
        } else {
            return .failure(UserProblem(message: "no user \"\(spec.user)\" in /etc/passwd"))
        }
        if let name = spec.group {
            if let found = groups.first(where: { $0.name == name }) {
                resolved.gid = found.id
            } else if let gid = UInt32(name), gid < UInt32.max {
                resolved.gid = gid
            } else {
                return .failure(UserProblem(message: "no group \"\(name)\" in /etc/group"))
            }
        }
        var supplementary = [resolved.gid]
        if let name = resolved.name {
            for entry in groups where entry.field.split(separator: ",").contains(Substring(name)) {
                if !supplementary.contains(entry.id) { supplementary.append(entry.id) }
            }
        }
        resolved.groups = supplementary
        if resolved.home.isEmpty { resolved.home = "/" }
        return .success(resolved)
    }

    /// Whether the `CapEff:` line of /proc/self/status holds CAP_SETUID (7) and CAP_SETGID (6).
    public static func canSwitchUsers(procStatus: String) -> Bool {
        for line in procStatus.split(separator: "\n") where line.hasPrefix("CapEff:") {
            let hex = line.dropFirst("CapEff:".count).drop(while: { $0 == " " || $0 == "\t" })
            guard let bits = UInt64(hex, radix: 16) else { return false }
            return bits & (1 << 6) != 0 && bits & (1 << 7) != 0
        }
        return false
    }
}
