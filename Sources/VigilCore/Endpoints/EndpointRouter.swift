/// Answers every HTTP request from a snapshot. Pure: the probe server only moves bytes.
public enum EndpointRouter {
    static let probePaths: [String: Probe] = [
        "livez": .live, "healthz": .live, "readyz": .ready, "ready": .ready, "startupz": .startup,
    ]

    /// The probe a bare `GET /readyz` (no query, no sub-path, no JSON asked for in `Accept`) asks,
    /// or nil. Such a request gets `200 ok` whenever `HealthModel.passes` says so: the probe server
    /// answers it from prebuilt bytes, since kubelet and load balancers send nothing else, many
    /// times a second.
    public static func bareProbe(_ uri: String, accept: String? = nil) -> Probe? {
        if acceptsJSON(accept) { return nil }
        return switch uri {
        case "/readyz", "/ready": .ready
        case "/livez", "/healthz": .live
        case "/startupz": .startup
        default: nil
        }
    }

    /// Whether an `Accept` header asks for JSON: the one rule for the router and the fast path.
    static func acceptsJSON(_ accept: String?) -> Bool {
        accept.map { TextSearch.contains($0, "application/json") } ?? false
    }

    public static func reply(to request: EndpointRequest, snapshot: AgentSnapshot) -> EndpointReply {
        let (path, query) = split(request.uri)
        let segments = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let parameters = QueryParameters(query)

        if segments.first == "drain", segments.count == 1 {
            return admin(request, snapshot: snapshot)
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            let known =
                segments.isEmpty || (segments.count <= 2 && probePaths[segments[0]] != nil)
                || (segments.count == 1 && (segments[0] == "metrics" || segments[0] == "status"))
            guard known else { return .text(404, "not found\n") }
            var reply = EndpointReply.text(405, "method not allowed\n")
            reply.headers["Allow"] = "GET, HEAD"
            return reply
        }
        let wantsJSON = parameters.value("format") == "json" || acceptsJSON(request.accept)
        let showReasons = snapshot.details == .always || (snapshot.details == .local && request.isLoopback)

        switch segments.count {
        case 0:
            return .text(200, index)
        case 1 where segments[0] == "metrics":
            // Prometheus asks for OpenMetrics first in its Accept header; anyone else gets 0.0.4 text.
            let openMetrics = request.accept.map { TextSearch.contains($0, "application/openmetrics-text") } ?? false
            var reply = EndpointReply.text(200, MetricsText.render(snapshot, openMetrics: openMetrics))
            reply.contentType = openMetrics ? EndpointReply.openMetricsType : EndpointReply.metricsType
            return reply
        case 1 where segments[0] == "status":
            if wantsJSON {
                return EndpointReply(
                    status: 200, contentType: EndpointReply.jsonType,
                    body: HealthJSON.render(snapshot, probe: .ready, excluded: [], showReasons: showReasons).rendered
                        + "\n")
            }
            return .text(200, StatusTable.render(snapshot, showReasons: showReasons))
        case 1, 2:
            guard let probe = probePaths[segments[0]] else { return .text(404, "not found\n") }
            if segments.count == 2 {
                guard let item = snapshot.health.evaluate(probe, item: segments[1], at: snapshot.moment) else {
                    return .text(404, "no check \"\(segments[1])\" feeds \(probe.endpointName)\n")
                }
                return item.passed ? .text(200, "ok") : .text(503, HealthText.line(for: item, showReasons: showReasons))
            }
            let excluded = parameters.values("exclude")
            if !wantsJSON && !parameters.has("verbose") && excluded.isEmpty
                && snapshot.health.passes(probe, at: snapshot.moment)
            {
                return .text(200, "ok")
            }
            let verdict = snapshot.health.evaluate(probe, at: snapshot.moment)
            if wantsJSON {
                let document = HealthJSON.render(snapshot, probe: probe, excluded: excluded, showReasons: showReasons)
                let passed = HealthText.passes(verdict, excluded: excluded)
                return EndpointReply(
                    status: passed ? 200 : 503, contentType: EndpointReply.jsonType, body: document.rendered + "\n")
            }
            let rendered = HealthText.render(
                verdict, excluded: excluded, verbose: parameters.has("verbose"), showReasons: showReasons)
            return .text(rendered.passed ? 200 : 503, rendered.body)
        default:
            return .text(404, "not found\n")
        }
    }

    static let index = """
        vigil endpoints:
          /livez /healthz        liveness
          /readyz /ready         readiness
          /startupz              startup
          /livez/<check> …       one check   (?verbose, ?exclude=<check>, ?format=json)
          /status                every check (?format=json)
          /metrics               Prometheus text format (OpenMetrics when asked)
          POST/DELETE /drain     start or end a manual drain

        """

    private static func split(_ uri: String) -> (Substring, Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (Substring(uri), "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    private static func admin(_ request: EndpointRequest, snapshot: AgentSnapshot) -> EndpointReply {
        let command: AdminCommand
        switch request.method {
        case "POST": command = .startDrain
        case "DELETE": command = .cancelDrain
        default:
            var reply = EndpointReply.text(405, "method not allowed\n")
            reply.headers["Allow"] = "POST, DELETE"
            return reply
        }
        let refusal: String?
        switch snapshot.admin {
        case .off:
            refusal = "admin endpoints are off (VIGIL_ADMIN=off)"
        case .local:
            // Loopback alone is not enough: an app tricked into fetching a URL for a user (SSRF) is
            // a loopback caller too, but it cannot add a header of vigil's own.
            if !request.isLoopback {
                refusal = "admin endpoints answer loopback callers only (VIGIL_ADMIN=local)"
            } else if (request.adminHeader ?? "").isEmpty {
                refusal =
                    "admin calls need the \(EndpointRequest.adminHeaderName) header, which `vigil drain` sends "
                    + "(VIGIL_ADMIN=local)"
            } else {
                refusal = nil
            }
        case .token:
            let expected = "Bearer " + (snapshot.adminToken ?? "")
            refusal =
                constantTimeEquals(request.authorization ?? "", expected)
                ? nil : "a valid bearer token is required (VIGIL_ADMIN=token)"
        }
        let verb = command == .startDrain ? "POST" : "DELETE"
        if let refusal {
            var reply = EndpointReply.text(403, "forbidden: \(refusal)\n")
            reply.logLine = "refused \(verb) /drain: \(refusal)"
            return reply
        }
        var reply = EndpointReply.text(
            200, command == .startDrain ? "draining: readiness fails, the app keeps running\n" : "drain ended\n")
        reply.command = command
        reply.logLine =
            command == .startDrain ? "manual drain started (\(verb) /drain)" : "manual drain ended (\(verb) /drain)"
        return reply
    }

    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0
    }
}
