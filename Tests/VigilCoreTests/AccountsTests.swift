import Testing

@testable import VigilCore

@Suite struct AccountsTests {
    let passwd = """
        root:x:0:0:root:/root:/bin/bash
        # a comment
        app:x:1000:1000:The App,,,:/home/app:/bin/sh
        broken:x:notanumber:1::/:/bin/sh
        nohome:x:1001:1001:::/bin/sh

        """
    let group = """
        root:x:0:
        app:x:1000:
        staff:x:50:app,other
        video:x:44:other
        audio:x:29:app
        nohome:x:1001:
        """

    func resolve(_ text: String) -> Result<ResolvedUser, UserProblem> {
        Accounts.resolve(UserSpec.parse(text)!, passwd: passwd, group: group)
    }

    @Test func specs() {
        #expect(UserSpec.parse("app") == UserSpec(user: "app", group: nil))
        #expect(UserSpec.parse("1000:50") == UserSpec(user: "1000", group: "50"))
        for bad in ["", ":", "app:", ":staff", "a:b:c", "app user", "app\n"] {
            #expect(UserSpec.parse(bad) == nil, "\(bad)")
        }
    }

    @Test func namesFromTheFiles() throws {
        #expect(
            resolve("app")
                == .success(ResolvedUser(uid: 1000, gid: 1000, groups: [1000, 50, 29], home: "/home/app", name: "app")))
        #expect(try resolve("app:staff").get().gid == 50)
        #expect(try resolve("app:staff").get().groups == [50, 29])
        #expect(try resolve("1000").get().name == "app", "a uid in /etc/passwd is that user")
        #expect(try resolve("nohome").get().home == "/")
        #expect(try resolve("0:0").get() == ResolvedUser(uid: 0, gid: 0, groups: [0], home: "/root", name: "root"))
    }

    @Test func numbersNeedNoEntry() throws {
        #expect(resolve("4242") == .success(ResolvedUser(uid: 4242, gid: 4242, groups: [4242], home: "/", name: nil)))
        #expect(try resolve("4242:7").get().gid == 7)
    }

    @Test func whatDoesNotResolve() {
        #expect(resolve("ghost") == .failure(UserProblem(message: "no user \"ghost\" in /etc/passwd")))
        #expect(resolve("app:ghosts") == .failure(UserProblem(message: "no group \"ghosts\" in /etc/group")))
        #expect(resolve("broken").isFailure)
        #expect(resolve("4294967295").isFailure, "(uid_t)-1 means no change to setuid")
    }

    @Test func capabilities() {
        #expect(Accounts.canSwitchUsers(procStatus: "Name:\tvigil\nCapEff:\t000001ffffffffff\n"))
        #expect(Accounts.canSwitchUsers(procStatus: "CapEff:\t00000000000000c0\n"))
        #expect(!Accounts.canSwitchUsers(procStatus: "CapEff:\t0000000000000080\n"), "SETUID without SETGID")
        #expect(!Accounts.canSwitchUsers(procStatus: "CapEff:\t0000000000000000\n"))
        #expect(!Accounts.canSwitchUsers(procStatus: "Name:\tvigil\n"))
    }

    @Test func theSetting() {
        let parsed = ConfigurationParser.parse(["VIGIL_USER": "app:staff"])
        #expect(parsed.problems.isEmpty && parsed.configuration.user == UserSpec(user: "app", group: "staff"))
        #expect(ConfigurationParser.parse([:]).configuration.user == nil)
        #expect(
            ConfigurationParser.parse(["VIGIL_USER": "app:"]).problems.map(\.description) == [
                #"VIGIL_USER="app:": not a user (use a name, a uid, name:group or uid:gid); "#
                    + "example: VIGIL_USER=1000:1000"
            ])
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
