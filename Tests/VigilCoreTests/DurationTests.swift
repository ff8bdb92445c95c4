import Testing

@testable import VigilCore

@Suite struct DurationTextTests {
    @Test(
        arguments: [
            ("500ms", 500), ("5s", 5000), ("1m30s", 90_000), ("1.5s", 1500), ("20", 20_000), ("0", 0),
            ("2h", 7_200_000), ("0.25", 250), (" 3s ", 3000),
        ] as [(String, Int64)])
    func parses(_ text: String, _ milliseconds: Int64) {
        #expect(DurationText.parse(text)?.milliseconds == milliseconds)
    }

    @Test(arguments: ["", "abc", "5x", "s", "-1s", "1.2.3s", "5 s"])
    func rejects(_ text: String) {
        #expect(DurationText.parse(text) == nil)
    }

    @Test(
        arguments: [(500, "500ms"), (5000, "5s"), (90_000, "1m30s"), (1500, "1.5s"), (0, "0s"), (7_200_000, "2h")]
            as [(Int64, String)])
    func formats(_ milliseconds: Int64, _ text: String) {
        #expect(DurationText.format(.milliseconds(milliseconds)) == text)
        #expect(DurationText.parse(text)?.milliseconds == milliseconds)
    }
}

@Suite struct SignalNameTests {
    @Test func acceptsNamesAndNumbers() {
        #expect(SignalNames.parse("SIGQUIT") == 3)
        #expect(SignalNames.parse("QUIT") == 3)
        #expect(SignalNames.parse("quit") == 3)
        #expect(SignalNames.parse("3") == 3)
        #expect(SignalNames.parse("SIGKILL") == nil)
        #expect(SignalNames.parse("STOP") == nil)
        #expect(SignalNames.parse("NOPE") == nil)
        #expect(SignalNames.name(15) == "SIGTERM")
    }
}

@Suite struct ShellWordsTests {
    @Test func splitsLikeAShell() throws {
        #expect(try ShellWords.split("pg_isready -h 127.0.0.1") == ["pg_isready", "-h", "127.0.0.1"])
        #expect(
            try ShellWords.split("sh -c 'test -f /tmp/ok && echo yes'") == ["sh", "-c", "test -f /tmp/ok && echo yes"])
        #expect(try ShellWords.split(#"echo "a \"b\" c" d\ e"#) == ["echo", #"a "b" c"#, "d e"])
        #expect(try ShellWords.split("  ") == [])
        #expect(try ShellWords.split("''") == [""])
    }

    @Test func reportsUnterminatedQuotes() {
        #expect(throws: ShellWords.SplitError.unterminatedQuote) { try ShellWords.split("sh -c 'oops") }
        #expect(throws: ShellWords.SplitError.trailingBackslash) { try ShellWords.split("a\\") }
    }
}
