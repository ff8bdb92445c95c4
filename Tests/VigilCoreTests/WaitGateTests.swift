import Testing

@testable import VigilCore

@Suite struct WaitGateTests {
    @Test func readyContinuouslyForTheWindow() {
        var gate = WaitGate(readyFor: .seconds(10), version: nil)
        #expect(
            gate.observe(.unreachable("connection refused"), at: 0) == ("unreachable: connection refused", .waiting))
        #expect(gate.observe(.unreachable("connection refused"), at: 250) == (nil, .waiting), "no change, no line")
        #expect(
            gate.observe(.answered(ready: false, reason: "db failed: down", version: nil), at: 500)
                == ("not ready: db failed: down, no version", .waiting))
        #expect(
            gate.observe(.answered(ready: true, reason: nil, version: nil), at: 1_000)
                == ("ready, no version; must stay ready for 10s", .waiting))
        #expect(gate.observe(.answered(ready: true, reason: nil, version: nil), at: 10_999).verdict == .waiting)
        // A flip starts the window again.
        #expect(
            gate.observe(.answered(ready: false, reason: nil, version: nil), at: 11_000).line == "not ready, no version"
        )
        #expect(gate.observe(.answered(ready: true, reason: nil, version: nil), at: 12_000).verdict == .waiting)
        #expect(gate.observe(.answered(ready: true, reason: nil, version: nil), at: 21_999).verdict == .waiting)
        #expect(gate.observe(.answered(ready: true, reason: nil, version: nil), at: 22_000) == (nil, .done))
        #expect(gate.satisfiedFor(at: 22_000) == .seconds(10))
    }

    @Test func theWantedVersion() {
        var gate = WaitGate(readyFor: .zero, version: "v2")
        #expect(
            gate.observe(.answered(ready: true, reason: nil, version: "v1"), at: 0)
                == ("ready, version v1, waiting for version v2", .waiting))
        #expect(
            gate.observe(.answered(ready: false, reason: nil, version: nil), at: 100)
                == ("not ready, no version, waiting for version v2", .waiting))
        #expect(
            gate.observe(.answered(ready: true, reason: nil, version: "v2"), at: 200) == ("ready, version v2", .done))
        #expect(gate.lastSeen == "ready, version v2")
    }

    @Test func readingTheInstance() {
        #expect(
            WaitGate.reason(fromVerbose: "[+]process ok\n[-]db failed: refused\nreadyz check failed\n")
                == "db failed: refused")
        #expect(WaitGate.reason(fromVerbose: "ok") == nil)
        let json =
            #"{"probe":"ready","app":{"running":true},"version":{"vigil":"0.1.0","app":"blue \"2\"\u00e9"},"x":1}"#
        #expect(WaitGate.appVersion(inStatusJSON: json) == "blue \"2\"é")
        #expect(WaitGate.appVersion(inStatusJSON: #"{"version":{"vigil":"0.1.0","app":null}}"#) == nil)
        #expect(WaitGate.appVersion(inStatusJSON: #"{"probe":"ready"}"#) == nil)
        #expect(WaitGate.appVersion(inStatusJSON: #"{"version":{"vigil":"0.1.0","app":"unterminated"#) == nil)
    }

    @Test func commandLine() throws {
        let request = try #require(
            try? Invocation.parse([
                "wait", "http://10.0.0.7:7979/", "--ready-for", "3s", "--version=v2", "--timeout", "1m",
            ]))
        guard case .wait(let wait) = request else {
            Issue.record("not a wait: \(request)")
            return
        }
        #expect(wait.readyFor == .seconds(3) && wait.version == "v2" && wait.timeout == .seconds(60))
        #expect(
            wait.target("/readyz?verbose")
                == HTTPTarget(secure: false, host: "10.0.0.7", port: 7979, path: "/readyz?verbose"))
        let defaults = try Invocation.parse(["wait", "http://[::1]:7979/blue"])
        #expect(
            defaults
                == .wait(
                    WaitRequest(base: HTTPTarget(secure: false, host: "::1", port: 7979, path: "/blue"))))
        if case .wait(let plain) = defaults {
            #expect(plain.readyFor == .seconds(10) && plain.timeout == .seconds(300) && plain.version == nil)
            #expect(plain.target("/readyz").path == "/blue/readyz")
        }
        for (arguments, message) in [
            (["wait"], "vigil wait: missing URL, as in vigil wait http://10.0.0.7:7979"),
            (
                ["wait", "tcp://1.2.3.4:5"],
                "vigil wait: \"tcp://1.2.3.4:5\" is not an http:// URL, as in http://10.0.0.7:7979"
            ),
            (
                ["wait", "http://a:1", "--ready-for", "soon"],
                "vigil wait: --ready-for \"soon\" is not a duration, as in --ready-for 10s"
            ),
            (
                ["wait", "http://a:1", "--timeout", "0s"],
                "vigil wait: --timeout \"0s\" is not a duration, as in --timeout 10s"
            ),
            (["wait", "http://a:1", "--version"], "vigil wait: --version needs a value"),
            (["wait", "http://a:1", "--bogus", "1"], "vigil wait: unknown option --bogus"),
            (["wait", "http://a:1", "http://b:2"], "vigil wait: unexpected argument \"http://b:2\""),
        ] {
            #expect(throws: Invocation.UsageError(description: message)) { try Invocation.parse(arguments) }
        }
    }
}
