/// What a health call's stream brought back, as the agent collected it: the response headers'
/// `:status` and `content-type`, `grpc-status` and `grpc-message` from the trailers (or from the
/// headers of a trailers-only answer), and the body's first `GRPCHealth.responseLimit` bytes.
public struct GRPCHealthAnswer: Equatable, Sendable {
    public var httpStatus: Int? = nil
    public var contentType: String? = nil
    public var grpcStatus: String? = nil
    public var grpcMessage: String? = nil
    public var body: [UInt8] = []

    public init() {}

    /// The most of `grpc-message` shown in a reason.
    public static let messageLimit = 200

    /// Whether the check passes, and the reason shown in `?verbose`, `/status` and the log.
    public var verdict: (passed: Bool, reason: String) {
        guard let httpStatus else { return (false, "no HTTP status in the answer") }
        guard httpStatus == 200 else { return (false, "HTTP \(httpStatus), not a gRPC answer") }
        guard let grpcStatus else {
            if let contentType, !contentType.lowercased().hasPrefix("application/grpc") {
                return (false, "not a gRPC answer (content-type \(LineText.oneLine(contentType, limit: 64)))")
            }
            return (false, "no grpc-status in the answer")
        }
        guard let code = Int(grpcStatus), code >= 0 else {
            return (false, "invalid grpc-status \"\(LineText.oneLine(grpcStatus, limit: 16))\"")
        }
        guard code == 0 else {
            let name = GRPCHealthAnswer.codeNames.indices.contains(code) ? " (\(GRPCHealthAnswer.codeNames[code]))" : ""
            let message = GRPCHealthAnswer.percentDecoded(grpcMessage ?? "")
            let detail = message.isEmpty ? "" : ": " + LineText.oneLine(message, limit: GRPCHealthAnswer.messageLimit)
            return (false, "gRPC status \(code)\(name)\(detail)")
        }
        switch GRPCHealth.decodeResponse(body) {
        case .success(let status): return (status == .serving, status.name)
        case .failure(let error): return (false, "invalid health response: \(error)")
        }
    }

    /// Why a server's first bytes cannot be HTTP/2, whose server preface is a SETTINGS frame (a
    /// length that is a multiple of 6, type 4, no flags, stream 0); nil when they can be. Judges
    /// the first 9 bytes as far as there are any; shows up to 48 more of a line of text.
    public static func prefaceProblem(_ bytes: [UInt8]) -> String? {
        let header = Array(bytes.prefix(9))
        let length = header.prefix(3).reduce(0) { $0 << 8 | Int($1) } << (8 * (3 - min(header.count, 3)))
        let settings = length % 6 == 0 && header.indices.allSatisfy { $0 < 3 || header[$0] == ($0 == 3 ? 4 : 0) }
        if settings { return nil }
        if header.count >= 2, header[0] == 0x15 || header[0] == 0x16, header[1] == 3 {
            return "not an HTTP/2 server: it answers in TLS (use grpcs://)"
        }
        let line = bytes.prefix { $0 != 13 && $0 != 10 }.prefix(48)
        guard !line.isEmpty, line.allSatisfy({ (32...126).contains($0) }) else {
            return "not an HTTP/2 server: its first bytes are not HTTP/2"
        }
        return "not an HTTP/2 server: it answered \"\(String(decoding: line, as: UTF8.self))\""
    }

    /// gRPC's status codes 0–16 by number (grpc/doc/statuscodes.md).
    public static let codeNames = [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
        "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
        "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]

    /// `grpc-message` is percent-encoded (gRPC over HTTP/2): `%XX` becomes the byte; anything that
    /// is not a valid escape stays as written.
    static func percentDecoded(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var decoded: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x25, index + 2 < bytes.count, let high = hexValue(bytes[index + 1]),
                let low = hexValue(bytes[index + 2])
            {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
