/// `vigil manifest --name NAME --image IMAGE [--port N] [--replicas N]`.
public struct ManifestRequest: Equatable, Sendable {
    public var name: String
    public var image: String
    /// The app's own port (the Service's target).
    public var port: Int = 8080
    public var replicas: Int = 3

    public init(name: String, image: String, port: Int = 8080, replicas: Int = 3) {
        self.name = name
        self.image = image
        self.port = port
        self.replicas = replicas
    }
}

extension Invocation {
    static func parseManifest(_ arguments: [String]) throws(UsageError) -> ManifestRequest {
        var values: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            var option = argument
            var value: String?
            if let equals = argument.firstIndex(of: "=") {
                option = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            }
            guard ["--name", "--image", "--port", "--replicas"].contains(option) else {
                throw UsageError(description: "vigil manifest: unexpected argument \"\(argument)\"")
            }
            guard let text = value ?? rest.popFirst() else {
                throw UsageError(description: "vigil manifest: \(option) needs a value")
            }
            values[option] = text
        }
        guard let name = values["--name"], let image = values["--image"] else {
            throw UsageError(description: "vigil manifest needs --name NAME and --image IMAGE")
        }
        guard isDNSLabel(name) else {
            throw UsageError(
                description: "vigil manifest: --name \"\(name)\" must be a DNS label (a-z, 0-9 and -, at most 63)")
        }
        guard !image.isEmpty, image.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw UsageError(description: "vigil manifest: --image \"\(image)\" is not an image reference")
        }
        var request = ManifestRequest(name: name, image: image)
        if let text = values["--port"] {
            guard let port = Int(text), (1...65535).contains(port) else {
                throw UsageError(description: "vigil manifest: --port \(text) is not a port between 1 and 65535")
            }
            request.port = port
        }
        if let text = values["--replicas"] {
            guard let replicas = Int(text), (1...1000).contains(replicas) else {
                throw UsageError(description: "vigil manifest: --replicas \(text) is not a number from 1 to 1000")
            }
            request.replicas = replicas
        }
        return request
    }

    /// RFC 1123 label: what Kubernetes accepts as a Service name and a label value alike.
    static func isDNSLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count) else { return false }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        return alphanumeric(bytes.first!) && alphanumeric(bytes.last!)
            && bytes.allSatisfy { alphanumeric($0) || $0 == 0x2D }
    }
}
