import Testing

@testable import VigilCore

@Suite struct ConfigurationParserTests {
    @Test func defaults() {
        let parsed = ConfigurationParser.parse([:])
        #expect(parsed.problems.isEmpty)
        let c = parsed.configuration
        #expect(c.listen == HostPort(host: "", port: 7979))
        #expect(c.stopTimeout == .seconds(20))
        #expect(c.drainDelay == .seconds(5))
        #expect(c.signalTarget == .group)
        #expect(
            parsed.effective.first { $0.name == "VIGIL_STOP_TIMEOUT" }
                == EffectiveSetting(name: "VIGIL_STOP_TIMEOUT", value: "20s", source: .default))
    }

    @Test func checkWithOptions() throws {
        let parsed = ConfigurationParser.parse([
            "VIGIL_CHECK_DB": "tcp://127.0.0.1:5432",
            "VIGIL_CHECK_DB_PROBES": "ready,live",
            "VIGIL_CHECK_DB_INTERVAL": "2s",
            "VIGIL_CHECK_API": "https://[::1]:8443/health?deep=1",
            "VIGIL_CHECK_API_EXPECT_STATUS": "200-299,302",
            "HOME": "/root",
        ])
        #expect(parsed.problems == [])
        let checks = parsed.configuration.checks
        #expect(checks.map(\.name) == ["api", "db"])
        #expect(checks[1].probes == [.ready, .live])
        #expect(checks[1].interval == .seconds(2))
        #expect(checks[0].target == .http(HTTPTarget(secure: true, host: "::1", port: 8443, path: "/health?deep=1")))
        #expect(checks[0].expectStatus.contains(302) && !checks[0].expectStatus.contains(301))
    }

    @Test func startInterval() throws {
        let parsed = ConfigurationParser.parse([
            "VIGIL_CHECK_DB": "tcp://127.0.0.1:5432", "VIGIL_CHECK_DB_START_INTERVAL": "500ms",
            "VIGIL_CHECK_WEB": "tcp://127.0.0.1:80",
        ])
        #expect(parsed.problems == [])
        let db = try #require(parsed.configuration.checks.first { $0.name == "db" })
        #expect(db.startInterval == .milliseconds(500))
        #expect(db.interval(hasPassed: false) == .milliseconds(500) && db.interval(hasPassed: true) == .seconds(5))
        #expect(parsed.effective.contains { $0.name == "VIGIL_CHECK_DB_START_INTERVAL" && $0.value == "500ms" })
        #expect(!parsed.effective.contains { $0.name == "VIGIL_CHECK_WEB_START_INTERVAL" })
        let bad = ConfigurationParser.parse([
            "VIGIL_CHECK_DB": "tcp://127.0.0.1:5432", "VIGIL_CHECK_DB_START_INTERVAL": "0s",
        ])
        #expect(
            bad.problems.map(\.description) == [
                "VIGIL_CHECK_DB_START_INTERVAL=\"0s\": must be more than 0s; example: VIGIL_CHECK_DB_START_INTERVAL=1s"
            ])
        let orphan = ConfigurationParser.parse(["VIGIL_CHECK_DB_START_INTERVAL": "1s"])
        #expect(orphan.problems.map(\.variable) == ["VIGIL_CHECK_DB_START_INTERVAL"])
        #expect(orphan.problems.first?.message.contains("option START_INTERVAL of check db") == true)
    }

    @Test func everyProblemAtOnceWithExactMessages() {
        let parsed = ConfigurationParser.parse([
            "VIGIL_DRIAN_DELAY": "3s",
            "VIGIL_STOP_TIMEOUT": "abc",
            "VIGIL_CHECK_DB": "tcp://x",
            "VIGIL_CHECK_DB_TIMOUT": "1s",
            "VIGIL_CHECK_API_INTERVAL": "2s",
            "VIGIL_LISTEN": ":99999",
            "VIGIL_CHECK_Q": "ftp://host/",
        ])
        #expect(
            parsed.problems.map(\.description) == [
                #"VIGIL_CHECK_API_INTERVAL="2s": option INTERVAL of check api, but VIGIL_CHECK_API is not set; "#
                    + #"example: VIGIL_CHECK_API=http://127.0.0.1:8080/health"#,
                #"VIGIL_CHECK_DB="tcp://x": missing port; example: VIGIL_CHECK_DB=http://127.0.0.1:8080/health"#,
                #"VIGIL_CHECK_DB_TIMOUT="1s": unknown option TIMOUT of check db; did you mean VIGIL_CHECK_DB_TIMEOUT? "#
                    + #"example: VIGIL_CHECK_DB_TIMEOUT=1s"#,
                #"VIGIL_CHECK_Q="ftp://host/": unknown scheme "ftp" (use http, https, grpc, grpcs, tcp, unix, exec "#
                    + #"or file); example: VIGIL_CHECK_Q=http://127.0.0.1:8080/health"#,
                #"VIGIL_DRIAN_DELAY: unknown setting; did you mean VIGIL_DRAIN_DELAY? example: VIGIL_DRAIN_DELAY=5s"#,
                #"VIGIL_LISTEN=":99999": port "99999" is not between 1 and 65535; example: VIGIL_LISTEN=:7979"#,
                #"VIGIL_STOP_TIMEOUT="abc": not a duration (use 500ms, 5s, 1m30s or a number of seconds); "#
                    + #"example: VIGIL_STOP_TIMEOUT=20s"#,
            ])
    }

    @Test func secretsAreNeverShown() {
        let parsed = ConfigurationParser.parse(["VIGIL_ADMIN": "token", "VIGIL_ADMIN_TOKEN": "hunter2"])
        #expect(parsed.problems.isEmpty)
        #expect(parsed.effective.first { $0.name == "VIGIL_ADMIN_TOKEN" }?.value == "(set, hidden)")
        let missing = ConfigurationParser.parse(["VIGIL_ADMIN": "token"])
        #expect(
            missing.problems.map(\.description) == [
                "VIGIL_ADMIN_TOKEN: must be set when VIGIL_ADMIN=token; example: VIGIL_ADMIN_TOKEN=s3cret-token"
            ])
        #expect(!ConfigurationParser.parse(["VIGIL_ADMIN_TOKN": "hunter2"]).problems.description.contains("hunter2"))
    }

    @Test func warnsWhenStopOutlastsTheDefaultGracePeriod() {
        let parsed = ConfigurationParser.parse(["VIGIL_DRAIN_PORTS": "8080"])
        #expect(
            parsed.warnings == [
                "VIGIL_DRAIN_TIMEOUT + VIGIL_STOP_TIMEOUT = 50s, more than Kubernetes' default grace period of 30s: "
                    + "raise the pod's terminationGracePeriodSeconds to at least 55, or lower them"
            ])
        #expect(ConfigurationParser.parse([:]).warnings.isEmpty)
    }

    @Test func noServerMeansNoDefaultDrainDelay() {
        #expect(ConfigurationParser.parse(["VIGIL_LISTEN": "off"]).configuration.drainDelay == .zero)
        #expect(
            ConfigurationParser.parse(["VIGIL_LISTEN": "off", "VIGIL_DRAIN_DELAY": "3s"]).configuration.drainDelay
                == .seconds(3))
    }

    @Test func execTargetsSplitLikeAShell() {
        let parsed = ConfigurationParser.parse(["VIGIL_CHECK_PG": "exec:pg_isready -h '127.0.0.1'"])
        #expect(parsed.configuration.checks.first?.target == .exec(arguments: ["pg_isready", "-h", "127.0.0.1"]))
    }
}

@Suite struct InvocationTests {
    @Test func parsesCommandsAndSubcommands() throws {
        #expect(try Invocation.parse(["--", "status"]) == .run(command: ["status"]))
        #expect(try Invocation.parse(["my-app", "--flag"]) == .run(command: ["my-app", "--flag"]))
        #expect(try Invocation.parse(["probe", "live", "--timeout", "1s"]) == .probe(.live, timeout: .seconds(1)))
        #expect(try Invocation.parse(["probe"]) == .probe(.ready, timeout: .seconds(2)))
        #expect(try Invocation.parse(["drain", "--cancel"]) == .drain(cancel: true, timeout: .seconds(2)))
        #expect(try Invocation.parse(["config", "--check"]) == .config(checkOnly: true))
        #expect(throws: Invocation.UsageError.self) { try Invocation.parse([]) }
        #expect(throws: Invocation.UsageError.self) { try Invocation.parse(["--bogus"]) }
    }
}
