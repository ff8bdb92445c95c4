import Testing

@testable import VigilLintCore

@Suite struct DockerfileParserTests {
    @Test func continuationsCommentsAndStages() {
        let image = DockerfileParser.parse(
            """
            # syntax=docker/dockerfile:1
            ARG BASE=debian:bookworm-slim
            ARG PORT=7979
            FROM ${BASE} AS base
            ENV VIGIL_DRAIN_DELAY=5s \\
            # a comment inside the continuation
                VIGIL_STOP_TIMEOUT="20s"
            FROM base
            ARG PORT
            ENV VIGIL_LISTEN=:${PORT} APP="two words"
            EXPOSE ${PORT}/tcp 8080
            RUN <<EOF
            ENTRYPOINT this is a heredoc body, not an instruction
            EOF
            entrypoint ["/usr/local/bin/vigil", "--"]
            CMD my-app --port 8080
            """, file: "Dockerfile")
        #expect(
            image.vigilEnvironment == ["VIGIL_DRAIN_DELAY": "5s", "VIGIL_STOP_TIMEOUT": "20s", "VIGIL_LISTEN": ":7979"])
        #expect(image.env.first { $0.name == "APP" }?.value == "two words")
        #expect(image.exposed == [7979, 8080])
        #expect(image.entrypoint?.value == .exec(["/usr/local/bin/vigil", "--"]))
        #expect(image.entrypoint?.mark == SourceMark(line: 15, column: 1))
        #expect(image.cmd?.value == .shell("my-app --port 8080"))
        #expect(image.mark.line == 8)
        #expect(image.mentionsVigil)
    }

    @Test func escapeDirectiveAndLegacyEnv() {
        let image = DockerfileParser.parse(
            "# escape=`\nFROM x\nENV VIGIL_MIN_READY 10s\nENTRYPOINT [\"vigil\", `\n  \"--\"]\n", file: "D")
        #expect(image.vigilEnvironment == ["VIGIL_MIN_READY": "10s"])
        #expect(image.entrypoint?.value == .exec(["vigil", "--"]))
    }

    @Test func unresolvedVariablesAreNotGuessed() {
        let image = DockerfileParser.parse(
            "FROM x\nARG DELAY\nENV VIGIL_DRAIN_DELAY=$DELAY VIGIL_STOP_TIMEOUT=${T:-9s}\n", file: "D")
        #expect(image.env.map(\.value) == [nil, "9s"])
    }

    @Test func execFormIsJSON() {
        #expect(DockerCommand("[\"a\", \"b c\", \"\\u0041\\n\"]") == .exec(["a", "b c", "A\n"]))
        #expect(DockerCommand("[\"a\", ]") == .shell("[\"a\", ]"))
        #expect(DockerCommand("['a']") == .shell("['a']"))
        #expect(DockerCommand("[]") == .exec([]))
    }

    @Test func shellWords() {
        #expect(CommandWords.shellWrapsVigil(["/bin/sh", "-c", "vigil -- app"]))
        #expect(CommandWords.shellWrapsVigil(["bash", "-ec", "cd /app && /usr/local/bin/vigil -- app"]))
        #expect(!CommandWords.shellWrapsVigil(["sh", "-c", "exec vigil -- app"]))
        #expect(!CommandWords.shellWrapsVigil(["vigil", "--", "sh", "-c", "app"]))
        #expect(CommandWords.namesVigil(["env", "A=1", "sh", "-c", "vigil -- app"]))
        #expect(!CommandWords.namesVigil(["/app/vigilante"]))
    }
}

@Suite struct DockerfileRuleTests {
    static let good = """
        FROM debian:bookworm-slim
        COPY out/vigil /usr/local/bin/vigil
        ENV VIGIL_CHECK_APP=http://127.0.0.1:8080/health VIGIL_DRAIN_DELAY=5s
        EXPOSE 7979
        STOPSIGNAL SIGTERM
        HEALTHCHECK --interval=10s CMD ["/usr/local/bin/vigil", "probe", "ready"]
        ENTRYPOINT ["/usr/local/bin/vigil", "--"]
        CMD ["my-app"]
        """

    func rules(_ text: String, explicit: Bool = true) -> [String] {
        Linter.lint(ObjectSet(), dockerfiles: [dockerfile(text, explicit: explicit)]).findings.map(\.rule)
    }

    func replaced(_ original: String, _ replacement: String) throws -> String {
        try changed(original, replacement, in: Self.good)
    }

    @Test func theGoodOneHasNoFinding() { #expect(rules(Self.good).isEmpty) }

    @Test(arguments: [
        ("ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]", "ENTRYPOINT /usr/local/bin/vigil --", ["shell-wraps-vigil"]),
        (
            "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]", "ENTRYPOINT [\"/usr/local/bin/vigil\"]",
            ["dockerfile-entrypoint-separator"]
        ),
        (
            "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]", "ENTRYPOINT [\"/bin/sh\", \"-c\", \"vigil -- my-app\"]",
            ["shell-wraps-vigil"]
        ),
        (
            "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]\nCMD [\"my-app\"]",
            "CMD [\"/usr/local/bin/vigil\", \"--\", \"my-app\"]", ["dockerfile-entrypoint"]
        ),
        (
            "ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]\nCMD [\"my-app\"]", "CMD vigil -- my-app",
            ["shell-wraps-vigil"]
        ),
        ("ENTRYPOINT [\"/usr/local/bin/vigil\", \"--\"]", "ENTRYPOINT [\"/my-app\"]", ["dockerfile-entrypoint"]),
        ("STOPSIGNAL SIGTERM", "STOPSIGNAL SIGQUIT", ["stopsignal-not-drained"]),
        ("STOPSIGNAL SIGTERM", "STOPSIGNAL 9", ["stopsignal-not-drained"]),
        ("STOPSIGNAL SIGTERM", "", []),
        ("EXPOSE 7979\n", "", ["dockerfile-expose"]),
        (
            "CMD [\"/usr/local/bin/vigil\", \"probe\", \"ready\"]", "CMD curl -f http://localhost:8080/",
            ["dockerfile-healthcheck"]
        ),
        ("HEALTHCHECK --interval=10s CMD [\"/usr/local/bin/vigil\", \"probe\", \"ready\"]", "HEALTHCHECK NONE", []),
        (
            "HEALTHCHECK --interval=10s CMD [\"/usr/local/bin/vigil\", \"probe\", \"ready\"]", "",
            ["dockerfile-healthcheck"]
        ),
        ("VIGIL_DRAIN_DELAY=5s", "VIGIL_DRAIN_DELAY=5x", ["vigil-env-invalid"]),
        ("VIGIL_DRAIN_DELAY=5s", "VIGIL_DRAIN_DELAI=5s", ["vigil-env-unknown"]),
    ])
    func defects(_ original: String, _ replacement: String, _ expected: [String]) throws {
        #expect(try rules(replaced(original, replacement)) == expected)
    }

    @Test func shutdownSignalsWidenWhatSTOPSIGNALMayBe() throws {
        let quit = try replaced("STOPSIGNAL SIGTERM", "ENV VIGIL_SHUTDOWN_SIGNALS=SIGTERM,SIGQUIT\nSTOPSIGNAL SIGQUIT")
        #expect(rules(quit).isEmpty)
    }

    @Test func dockerfilesWithoutVigil() {
        let plain = "FROM nginx\nCMD [\"nginx\"]\n"
        #expect(rules(plain, explicit: false).isEmpty)
        #expect(rules(plain, explicit: true) == ["dockerfile-entrypoint"])
    }

    @Test func theRepositorysTemplate() throws {
        let template = try readText(repositoryRoot + "/Dockerfile.template")
        #expect(rules(template).isEmpty)
        let image = DockerfileParser.parse(template, file: "Dockerfile.template")
        #expect(image.vigilEnvironment["VIGIL_STOP_TIMEOUT"] == "20s")
        #expect(image.entrypoint?.value == .exec(["/usr/local/bin/vigil", "--"]))
    }
}
