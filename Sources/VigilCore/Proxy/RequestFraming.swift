/// Decides a request's body framing from its headers, refusing whatever two parsers could read
/// differently (RFC 9112 §6.3, request smuggling): the door forwards only framing it chose.
public enum RequestFraming {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case lengthAndChunked
        case conflictingLengths
        case badLength
        case unsupportedTransferCoding

        public var description: String {
            switch self {
            case .lengthAndChunked: "Content-Length together with Transfer-Encoding"
            case .conflictingLengths: "more than one Content-Length"
            case .badLength: "Content-Length is not a number"
            case .unsupportedTransferCoding: "a Transfer-Encoding other than chunked"
            }
        }
    }

    public static func framing(of headers: ForwardingRules.Headers) -> Result<ForwardingRules.Framing, Refusal> {
        var lengths: [String] = []
        var codings: [String] = []
        for field in headers {
            if HeaderName.matches(field.name, "content-length") {
                lengths += field.value.split(separator: ",", omittingEmptySubsequences: false)
                    .map { String($0).trimmingASCIIWhitespace() }
            } else if HeaderName.matches(field.name, "transfer-encoding") {
                codings += field.value.split(separator: ",").map { String($0).trimmingASCIIWhitespace().lowercased() }
            }
        }
        if !codings.isEmpty {
            guard lengths.isEmpty else { return .failure(.lengthAndChunked) }
            // Only `chunked`, once: other codings would be forwarded as bytes vigil cannot frame.
            guard codings == ["chunked"] else { return .failure(.unsupportedTransferCoding) }
            return .success(.chunked)
        }
        guard let first = lengths.first else { return .success(.none) }
        guard lengths.allSatisfy({ $0 == first }) else { return .failure(.conflictingLengths) }
        guard lengths.count == 1 else { return .failure(.conflictingLengths) }
        guard !first.isEmpty, first.utf8.count <= 18, first.utf8.allSatisfy({ (48...57).contains($0) }),
            let length = Int(first)
        else { return .failure(.badLength) }
        return .success(.contentLength(length))
    }

    /// A response's framing to the client, given what the app sent. `bodyless`: a HEAD request,
    /// or a status that has no body (1xx, 204, 304).
    public static func responseFraming(
        of headers: ForwardingRules.Headers, bodyless: Bool, http10Client: Bool
    ) -> (framing: ForwardingRules.Framing, mustClose: Bool) {
        if let length = headers.first(where: { HeaderName.matches($0.name, "content-length") }),
            let value = Int(length.value.trimmingASCIIWhitespace())
        {
            return (.contentLength(value), false)
        }
        if bodyless { return (.none, false) }
        // Chunked from the app, or a body read until the app closes: chunked to an HTTP/1.1
        // client; an HTTP/1.0 client learns the end when vigil closes its connection.
        return http10Client ? (.none, true) : (.chunked, false)
    }
}
