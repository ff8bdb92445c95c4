/// How the front door rewrites the headers it forwards (RFC 9110 §7.6): hop-by-hop fields are
/// the door's own business on each side and never cross it; the body's framing is decided by
/// the door, never copied, so that the app cannot read a request differently from the door.
public enum ForwardingRules {
    public typealias Headers = [(name: String, value: String)]

    /// How a forwarded message's body is framed.
    public enum Framing: Sendable, Equatable {
        case none
        case contentLength(Int)
        case chunked
    }

    /// Fields that describe one connection, removed whatever `Connection` says.
    static func isHopByHop(_ name: String) -> Bool {
        // By length first: most names are rejected without a byte compared.
        switch name.utf8.count {
        case 2: HeaderName.matches(name, "te")
        case 7: HeaderName.matches(name, "trailer") || HeaderName.matches(name, "upgrade")
        case 10: HeaderName.matches(name, "connection") || HeaderName.matches(name, "keep-alive")
        case 16: HeaderName.matches(name, "proxy-connection")
        case 17: HeaderName.matches(name, "transfer-encoding")
        default: false
        }
    }

    /// The tokens of every `Connection` field, lowercased.
    public static func connectionTokens(_ headers: Headers) -> Set<String> {
        var tokens: Set<String> = []
        for field in headers where HeaderName.matches(field.name, "connection") {
            for token in field.value.split(separator: ",") {
                tokens.insert(String(token).trimmingASCIIWhitespace().lowercased())
            }
        }
        return tokens
    }

    /// The `Upgrade` protocol a request asks for (`websocket`), when `Connection` names it too.
    private static func upgradeRequested(_ headers: Headers, tokens: Set<String>) -> String? {
        guard tokens.contains("upgrade") else { return nil }
        return headers.first { HeaderName.matches($0.name, "upgrade") }?.value
    }

    /// The request's headers as the app gets them. `framing` is what the door's parser saw;
    /// `client` the peer's address (nil for a unix-socket client).
    public static func request(
        _ headers: Headers, framing: Framing, client: String?, forwarded: Bool
    ) -> Headers {
        let tokens = connectionTokens(headers)
        let upgrade = upgradeRequested(headers, tokens: tokens)
        var out = withoutHopByHop(headers, named: tokens, dropsForwardedFor: true)
        if let upgrade {
            out.append(("Connection", "upgrade"))
            out.append(("Upgrade", upgrade))
        }
        append(framing, to: &out)
        if forwarded {
            let previous = headers.filter { HeaderName.matches($0.name, "x-forwarded-for") }.map(\.value)
            if let client {
                out.append(("X-Forwarded-For", (previous + [client]).joined(separator: ", ")))
            } else if !previous.isEmpty {
                out.append(("X-Forwarded-For", previous.joined(separator: ", ")))
            }
            // The outermost proxy knows the client's scheme; vigil only fills it in when none did.
            if !headers.contains(where: { HeaderName.matches($0.name, "x-forwarded-proto") }) {
                out.append(("X-Forwarded-Proto", "http"))
            }
        } else {
            out += headers.filter { HeaderName.matches($0.name, "x-forwarded-for") }
        }
        return out
    }

    /// The response's headers as the client gets them. `keepAlive`: whether the door keeps the
    /// client connection open after it; `http10`: the client spoke HTTP/1.0.
    public static func response(
        _ headers: Headers, status: Int, framing: Framing, keepAlive: Bool, http10: Bool
    ) -> Headers {
        let tokens = connectionTokens(headers)
        if status == 101 {
            var out = withoutHopByHop(headers, named: tokens, dropsForwardedFor: false)
            out.append(("Connection", "upgrade"))
            if let upgrade = headers.first(where: { HeaderName.matches($0.name, "upgrade") }) { out.append(upgrade) }
            return out
        }
        var out = withoutHopByHop(headers, named: tokens, dropsForwardedFor: false)
        append(framing, to: &out)
        if !keepAlive {
            out.append(("Connection", "close"))
        } else if http10 {
            out.append(("Connection", "keep-alive"))
        }
        return out
    }

    /// Whether an HTTP/1.x message keeps its connection open (RFC 9112 §9.3).
    public static func keepsAlive(_ headers: Headers, http10: Bool) -> Bool {
        let tokens = connectionTokens(headers)
        return http10 ? tokens.contains("keep-alive") : !tokens.contains("close")
    }

    /// RFC 9110 §9.2.2: a request that may be sent twice with the effect of once.
    public static func isIdempotent(_ method: String) -> Bool {
        ["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"].contains(method)
    }

    /// Without the hop-by-hop fields, those `Connection` names, `Content-Length` (the door frames
    /// every body itself) and, for requests, `X-Forwarded-For` (appended to instead).
    private static func withoutHopByHop(_ headers: Headers, named: Set<String>, dropsForwardedFor: Bool) -> Headers {
        // `keep-alive`, `close` and `upgrade` are hop-by-hop anyway: only other tokens need a lookup.
        let others = named.subtracting(["keep-alive", "close", "upgrade"])
        return headers.filter { field in
            let name = field.name
            if isHopByHop(name) || HeaderName.matches(name, "content-length") { return false }
            if dropsForwardedFor && HeaderName.matches(name, "x-forwarded-for") { return false }
            return others.isEmpty || !others.contains(name.lowercased())
        }
    }

    private static func append(_ framing: Framing, to headers: inout Headers) {
        switch framing {
        case .none: break
        case .contentLength(let length): headers.append(("Content-Length", String(length)))
        case .chunked: headers.append(("Transfer-Encoding", "chunked"))
        }
    }
}
