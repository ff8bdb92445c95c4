/// `grpc.health.v1.Health/Check` on the wire without a protobuf library: the request
/// `HealthCheckRequest { string service = 1; }` and the response
/// `HealthCheckResponse { ServingStatus status = 1; }`, each behind gRPC's 5-byte prefix (a
/// compression flag, then the message's length in 4 bytes, big-endian). Pure; the agent speaks
/// the HTTP/2 around it (`GRPCCheck`).
public enum GRPCHealth {
    public static let path = "/grpc.health.v1.Health/Check"
    /// The most of a response body that is kept: a health response is 7 bytes.
    public static let responseLimit = 16 * 1024

    /// `HealthCheckResponse.ServingStatus`.
    public enum ServingStatus: Equatable, Sendable {
        case unknown
        case serving
        case notServing
        case serviceUnknown
        /// A value this version of the protocol does not name.
        case other(UInt64)

        public init(_ value: UInt64) {
            switch value {
            case 0: self = .unknown
            case 1: self = .serving
            case 2: self = .notServing
            case 3: self = .serviceUnknown
            default: self = .other(value)
            }
        }

        public var name: String {
            switch self {
            case .unknown: "UNKNOWN"
            case .serving: "SERVING"
            case .notServing: "NOT_SERVING"
            case .serviceUnknown: "SERVICE_UNKNOWN"
            case .other(let value): "serving status \(value)"
            }
        }
    }

    /// Why a response body is not a health response.
    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case truncatedPrefix
        case compressed
        case truncated
        case trailingBytes
        case malformed(String)

        public var description: String {
            switch self {
            case .empty: "no message in the answer"
            case .truncatedPrefix: "a message prefix shorter than 5 bytes"
            case .compressed: "a compressed message (vigil asks for none)"
            case .truncated: "a message shorter than its prefix says"
            case .trailingBytes: "more than one message"
            case .malformed(let why): why
            }
        }
    }

    /// The framed request for SERVICE; an empty service asks about the server as a whole.
    public static func request(service: String) -> [UInt8] {
        var message: [UInt8] = []
        if !service.isEmpty {  // proto3 leaves a field at its default out
            message.append(0x0A)  // field 1, wire type 2 (length-delimited)
            appendVarint(UInt64(service.utf8.count), to: &message)
            message.append(contentsOf: service.utf8)
        }
        let length = UInt32(clamping: message.count)
        return [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + message
    }

    /// The serving status in a response body: exactly one uncompressed message. Unknown fields are
    /// skipped; an absent status is UNKNOWN (proto3's default); the last one wins, as in protobuf.
    public static func decodeResponse(_ body: [UInt8]) -> Result<ServingStatus, DecodeError> {
        guard !body.isEmpty else { return .failure(.empty) }
        guard body.count >= 5 else { return .failure(.truncatedPrefix) }
        guard body[0] == 0 else { return .failure(body[0] == 1 ? .compressed : .malformed("an invalid message flag")) }
        let length = body[1...4].reduce(0) { $0 << 8 | Int($1) }
        guard body.count - 5 >= length else { return .failure(.truncated) }
        guard body.count - 5 == length else { return .failure(.trailingBytes) }
        var reader = ProtobufReader(bytes: body[5...])
        var status: UInt64 = 0
        while !reader.atEnd {
            guard let key = reader.varint() else { return .failure(.malformed("a truncated or overlong field key")) }
            let field = key >> 3
            guard field > 0, field <= 0x1FFF_FFFF else { return .failure(.malformed("an invalid field number")) }
            switch (field, key & 7) {
            case (1, 0):
                guard let value = reader.varint() else { return .failure(.malformed("a truncated or overlong status")) }
                status = value
            case (1, _):
                return .failure(.malformed("a status that is not a varint"))
            case (_, let wireType) where [0, 1, 2, 5].contains(wireType):
                guard reader.skip(wireType: wireType) else { return .failure(.malformed("a truncated field")) }
            case (_, let wireType):
                // 3 and 4 are proto2's deprecated groups, not in this message; 6 and 7 do not exist.
                return .failure(.malformed("a field of wire type \(wireType)"))
            }
        }
        return .success(ServingStatus(status))
    }

    /// The `grpc-timeout` header for a check's TIMEOUT: at most 8 digits, in milliseconds or,
    /// beyond 27 hours, in seconds.
    public static func timeoutHeader(milliseconds: Int64) -> String {
        milliseconds <= 99_999_999 ? "\(max(milliseconds, 1))m" : "\(min(milliseconds / 1000, 99_999_999))S"
    }

    static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}

/// Reads protobuf's wire format from a slice, never past its end.
struct ProtobufReader {
    var bytes: ArraySlice<UInt8>

    var atEnd: Bool { bytes.isEmpty }

    /// A varint of at most 10 bytes that fits 64 bits; nil when truncated or longer.
    mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard let byte = bytes.popFirst() else { return nil }
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        return nil
    }

    /// Skips one field's value of WIRETYPE (0, 1, 2 or 5); false when it is truncated.
    mutating func skip(wireType: UInt64) -> Bool {
        switch wireType {
        case 0:
            return varint() != nil
        case 1, 5:
            return drop(wireType == 1 ? 8 : 4)
        case 2:
            guard let length = varint() else { return false }
            return drop(length)
        default:
            return false
        }
    }

    private mutating func drop(_ count: UInt64) -> Bool {
        guard count <= UInt64(bytes.count) else { return false }
        bytes = bytes.dropFirst(Int(count))
        return true
    }
}
