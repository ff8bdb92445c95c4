import Testing

@testable import VigilCore

@Suite struct GRPCTargetTests {
    func target(_ value: String) -> Result<CheckTarget, ValueError> { CheckTargetParser.parse(value) }

    @Test func parsesHostPortAndService() throws {
        #expect(
            try target("grpc://127.0.0.1:50051").get()
                == .grpc(GRPCTarget(secure: false, host: "127.0.0.1", port: 50051, service: "")))
        #expect(
            try target("grpcs://[::1]:8443/my.pkg.Service").get()
                == .grpc(GRPCTarget(secure: true, host: "::1", port: 8443, service: "my.pkg.Service")))
        #expect(
            try target("GRPC://localhost:9000/").get()
                == .grpc(GRPCTarget(secure: false, host: "localhost", port: 9000)))
        #expect(
            try target("grpc://h:1/a/b").get() == .grpc(GRPCTarget(secure: false, host: "h", port: 1, service: "a/b")))
    }

    @Test func kindAndAuthority() {
        #expect(CheckTarget.grpc(GRPCTarget(secure: false, host: "h", port: 1)).kind == "grpc")
        #expect(CheckTarget.grpc(GRPCTarget(secure: true, host: "h", port: 1)).kind == "grpcs")
        #expect(GRPCTarget(secure: false, host: "::1", port: 50051).authority == "[::1]:50051")
        #expect(GRPCTarget(secure: false, host: "", port: 50051).authority == "127.0.0.1:50051")
        #expect(GRPCTarget(secure: true, host: "api.local", port: 443).authority == "api.local:443")
    }

    @Test func thePortIsRequiredAndCredentialsAreRefused() {
        #expect(target("grpc://127.0.0.1") == .failure(ValueError("missing port")))
        #expect(target("grpcs://127.0.0.1/svc") == .failure(ValueError("missing port")))
        #expect(target("grpc://127.0.0.1:0") == .failure(ValueError("port \"0\" is not between 1 and 65535")))
        #expect(target("grpc://u:p@127.0.0.1:1") == .failure(ValueError("credentials in the URL are not supported")))
        #expect(target("grpc://::1:50051") == .failure(ValueError("an IPv6 address needs brackets, as in [::1]:8080")))
    }

    @Test func httpOnlyOptionsAreRefusedAndNotListed() {
        let parsed = ConfigurationParser.parse([
            "VIGIL_CHECK_API": "grpc://127.0.0.1:50051/api", "VIGIL_CHECK_API_EXPECT_STATUS": "200",
            "VIGIL_CHECK_API_EXPECT_BODY": "UP", "VIGIL_CHECK_API_MAX_AGE": "5s",
        ])
        #expect(
            parsed.problems.map(\.message) == [
                "EXPECT_BODY applies to http:// and https:// checks only",
                "EXPECT_STATUS applies to http:// and https:// checks only",
                "MAX_AGE applies to file:// checks only",
            ])
        let fine = ConfigurationParser.parse([
            "VIGIL_CHECK_API": "grpcs://127.0.0.1:50051", "VIGIL_CHECK_API_TIMEOUT": "2s",
        ])
        #expect(fine.problems.isEmpty)
        #expect(fine.configuration.checks.first?.timeout == .seconds(2))
        #expect(!fine.effective.contains { $0.name == "VIGIL_CHECK_API_EXPECT_STATUS" })
    }
}

@Suite struct GRPCHealthMessageTests {
    @Test func requestsAreFramedProtobuf() {
        #expect(GRPCHealth.request(service: "") == [0, 0, 0, 0, 0])
        #expect(GRPCHealth.request(service: "foo") == [0, 0, 0, 0, 5, 0x0A, 3, 0x66, 0x6F, 0x6F])
        let long = String(repeating: "s", count: 300)  // a two-byte varint length: 300 = 0xAC 0x02
        let framed = GRPCHealth.request(service: long)
        #expect(Array(framed.prefix(8)) == [0, 0, 0, 0x01, 0x2F, 0x0A, 0xAC, 0x02])
        #expect(framed.count == 5 + 3 + 300)
    }

    @Test func decodesEveryServingStatus() {
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, 2, 0x08, 1]) == .success(.serving))
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, 2, 0x08, 2]) == .success(.notServing))
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, 2, 0x08, 3]) == .success(.serviceUnknown))
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, 0]) == .success(.unknown))  // proto3 leaves 0 out
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, 3, 0x08, 0x96, 0x01]) == .success(.other(150)))
        #expect(GRPCHealth.ServingStatus.other(150).name == "serving status 150")
    }

    @Test func skipsUnknownFieldsOfEveryWireType() {
        let fields: [UInt8] = [
            0x10, 0xFF, 0x01,  // field 2, varint
            0x19, 1, 2, 3, 4, 5, 6, 7, 8,  // field 3, 64-bit
            0x22, 2, 0xAA, 0xBB,  // field 4, length-delimited
            0x2D, 1, 2, 3, 4,  // field 5, 32-bit
            0x08, 1,  // status SERVING
            0xF8, 0xFF, 0xFF, 0xFF, 0x0F, 0,  // field 2^29-1, varint
        ]
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, UInt8(fields.count)] + fields) == .success(.serving))
        // The last status wins, as in protobuf.
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, 4, 0x08, 2, 0x08, 1]) == .success(.serving))
    }

    @Test func hostileBodiesAreErrorsNotTraps() {
        let cases: [([UInt8], GRPCHealth.DecodeError)] = [
            ([], .empty),
            ([0, 0, 0], .truncatedPrefix),
            ([1, 0, 0, 0, 2, 0x08, 1], .compressed),
            ([7, 0, 0, 0, 2, 0x08, 1], .malformed("an invalid message flag")),
            ([0, 0xFF, 0xFF, 0xFF, 0xFF, 0x08, 1], .truncated),
            ([0, 0, 0, 0, 2, 0x08, 1, 0], .trailingBytes),
            ([0, 0, 0, 0, 1, 0x08], .malformed("a truncated or overlong status")),
            ([0, 0, 0, 0, 1, 0x80], .malformed("a truncated or overlong field key")),
            ([0, 0, 0, 0, 2, 0x00, 1], .malformed("an invalid field number")),
            ([0, 0, 0, 0, 6, 0x80, 0x80, 0x80, 0x80, 0x10, 0], .malformed("an invalid field number")),
            ([0, 0, 0, 0, 2, 0x0A, 0], .malformed("a status that is not a varint")),
            ([0, 0, 0, 0, 3, 0x12, 0x7F, 0], .malformed("a truncated field")),
            ([0, 0, 0, 0, 3, 0x19, 1, 2], .malformed("a truncated field")),
            ([0, 0, 0, 0, 2, 0x13, 0], .malformed("a field of wire type 3")),  // a group
            ([0, 0, 0, 0, 2, 0x16, 0], .malformed("a field of wire type 6")),
        ]
        for (body, error) in cases {
            #expect(GRPCHealth.decodeResponse(body) == .failure(error), "\(body)")
        }
        // Varints: ten bytes at most, and the tenth holds one bit.
        let eleven: [UInt8] = [0x08] + Array(repeating: 0xFF, count: 10) + [0x01]
        #expect(
            GRPCHealth.decodeResponse([0, 0, 0, 0, UInt8(eleven.count)] + eleven)
                == .failure(.malformed("a truncated or overlong status")))
        let overflow: [UInt8] = [0x08] + Array(repeating: 0xFF, count: 9) + [0x02]
        #expect(
            GRPCHealth.decodeResponse([0, 0, 0, 0, UInt8(overflow.count)] + overflow)
                == .failure(.malformed("a truncated or overlong status")))
        let largest: [UInt8] = [0x08] + Array(repeating: 0xFF, count: 9) + [0x01]
        #expect(GRPCHealth.decodeResponse([0, 0, 0, 0, UInt8(largest.count)] + largest) == .success(.other(.max)))
        // A length-delimited field as long as a UInt64 can say.
        let huge: [UInt8] = [0x12] + Array(repeating: 0xFF, count: 9) + [0x01]
        #expect(
            GRPCHealth.decodeResponse([0, 0, 0, 0, UInt8(huge.count)] + huge)
                == .failure(.malformed("a truncated field")))
    }

    @Test func randomBytesNeverTrap() {
        var generator = SplitMix(seed: 14)
        for _ in 0..<20000 {
            let count = Int(generator.next() % 24)
            let message = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let result = GRPCHealth.decodeResponse([0, 0, 0, 0, UInt8(count)] + message)
            #expect(result != .failure(.truncated) && result != .failure(.trailingBytes))
            _ = GRPCHealthAnswer.prefaceProblem(message)
        }
    }

    @Test func timeoutHeaderHasAtMostEightDigits() {
        #expect(GRPCHealth.timeoutHeader(milliseconds: 1000) == "1000m")
        #expect(GRPCHealth.timeoutHeader(milliseconds: 0) == "1m")
        #expect(GRPCHealth.timeoutHeader(milliseconds: 99_999_999) == "99999999m")
        #expect(GRPCHealth.timeoutHeader(milliseconds: 8760 * 3_600_000) == "31536000S")
    }
}

@Suite struct GRPCHealthVerdictTests {
    func answer(
        http: Int? = 200, contentType: String? = "application/grpc", status: String? = "0", message: String? = nil,
        body: [UInt8] = [0, 0, 0, 0, 2, 0x08, 1]
    ) -> GRPCHealthAnswer {
        var answer = GRPCHealthAnswer()
        answer.httpStatus = http
        answer.contentType = contentType
        answer.grpcStatus = status
        answer.grpcMessage = message
        answer.body = body
        return answer
    }

    @Test func servingPassesAndEveryOtherStatusFails() {
        #expect(answer().verdict == (true, "SERVING"))
        #expect(answer(body: [0, 0, 0, 0, 2, 0x08, 2]).verdict == (false, "NOT_SERVING"))
        #expect(answer(body: [0, 0, 0, 0, 2, 0x08, 3]).verdict == (false, "SERVICE_UNKNOWN"))
        #expect(answer(body: [0, 0, 0, 0, 0]).verdict == (false, "UNKNOWN"))
        #expect(answer(body: [0, 0, 0, 0, 2, 0x08, 9]).verdict == (false, "serving status 9"))
    }

    @Test func grpcStatusesAreNamedWithTheirMessage() {
        #expect(
            answer(status: "5", message: "unknown service foo", body: []).verdict
                == (false, "gRPC status 5 (NOT_FOUND): unknown service foo"))
        #expect(
            answer(status: "12", message: "Method%20not%20found%3A%20%E2%9C%93", body: []).verdict
                == (false, "gRPC status 12 (UNIMPLEMENTED): Method not found: \u{2713}"))
        #expect(answer(status: "14", body: []).verdict == (false, "gRPC status 14 (UNAVAILABLE)"))
        #expect(answer(status: "16", message: "", body: []).verdict == (false, "gRPC status 16 (UNAUTHENTICATED)"))
        #expect(answer(status: "17", body: []).verdict == (false, "gRPC status 17"))
        #expect(GRPCHealthAnswer.codeNames.count == 17)
        #expect(GRPCHealthAnswer.codeNames[4] == "DEADLINE_EXCEEDED" && GRPCHealthAnswer.codeNames[13] == "INTERNAL")
    }

    @Test func messagesAreOneBoundedLine() {
        let shown = answer(status: "2", message: "line%0Abreak\u{7}" + String(repeating: "x", count: 1000)).verdict
        #expect(shown.reason.hasPrefix("gRPC status 2 (UNKNOWN): line break "))
        #expect(shown.reason.count == "gRPC status 2 (UNKNOWN): ".count + GRPCHealthAnswer.messageLimit)
        #expect(GRPCHealthAnswer.percentDecoded("100% %zz %4") == "100% %zz %4")
        #expect(GRPCHealthAnswer.percentDecoded("%41%62%") == "Ab%")
    }

    @Test func answersThatAreNotGRPC() {
        #expect(answer(http: 404, status: nil).verdict == (false, "HTTP 404, not a gRPC answer"))
        #expect(answer(http: nil).verdict == (false, "no HTTP status in the answer"))
        #expect(
            answer(contentType: "text/html; charset=utf-8", status: nil).verdict
                == (false, "not a gRPC answer (content-type text/html; charset=utf-8)"))
        #expect(answer(status: nil).verdict == (false, "no grpc-status in the answer"))
        #expect(
            answer(contentType: "application/grpc+proto", status: nil).verdict.reason == "no grpc-status in the answer")
        #expect(answer(status: "OK").verdict == (false, "invalid grpc-status \"OK\""))
        #expect(answer(status: "-1").verdict == (false, "invalid grpc-status \"-1\""))
        #expect(answer(status: "99999999999999999999").verdict.passed == false)
        #expect(answer(body: []).verdict == (false, "invalid health response: no message in the answer"))
        #expect(
            answer(body: [1, 0, 0, 0, 2, 0x08, 1]).verdict
                == (false, "invalid health response: a compressed message (vigil asks for none)"))
    }

    @Test func serverPrefacesThatAreNotHTTP2() {
        let settings: [UInt8] = [0, 0, 18, 4, 0, 0, 0, 0, 0]
        #expect(GRPCHealthAnswer.prefaceProblem(settings) == nil)
        #expect(GRPCHealthAnswer.prefaceProblem([0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 4]) == nil)
        #expect(GRPCHealthAnswer.prefaceProblem([0, 0]) == nil)  // as far as it goes
        #expect(
            GRPCHealthAnswer.prefaceProblem(Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8))
                == "not an HTTP/2 server: it answered \"HTTP/1.1 400 Bad Request\"")
        #expect(
            GRPCHealthAnswer.prefaceProblem(Array("<!DOCTYPE HTML>\n<html>".utf8))
                == "not an HTTP/2 server: it answered \"<!DOCTYPE HTML>\"")
        #expect(
            GRPCHealthAnswer.prefaceProblem([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])
                == "not an HTTP/2 server: it answers in TLS (use grpcs://)")
        #expect(
            GRPCHealthAnswer.prefaceProblem([0, 0, 7, 1, 0, 0, 0, 0, 1])
                == "not an HTTP/2 server: its first bytes are not HTTP/2")
        #expect(
            GRPCHealthAnswer.prefaceProblem([0, 0, 18, 4, 1, 0, 0, 0, 0])
                == "not an HTTP/2 server: its first bytes are not HTTP/2")
        #expect(
            GRPCHealthAnswer.prefaceProblem([0, 0, 17, 4, 0, 0, 0, 0, 0])
                == "not an HTTP/2 server: its first bytes are not HTTP/2")
    }
}
