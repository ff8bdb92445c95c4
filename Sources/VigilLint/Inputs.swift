import Foundation
import VigilLintCore

/// The files a run reads: manifests (YAML or JSON) and Dockerfiles, from paths, directories
/// (recursively, hidden ones skipped) and stdin. Everything unreadable becomes a problem.
struct Inputs {
    var manifests: [(file: String, text: String)] = []
    var dockerfiles: [DockerfileInput] = []
    var problems: [Report.InputProblem] = []

    static let manifestExtensions: Set<String> = ["yaml", "yml", "json"]

    static func isDockerfile(_ name: String) -> Bool {
        name == "Dockerfile" || name == "Containerfile" || name.hasSuffix(".Dockerfile")
            || name.hasSuffix(".dockerfile")
    }

    static func collect(_ options: LintOptions, readStandardInput: () -> Data) -> Inputs {
        var inputs = Inputs()
        for option in options.dockerfiles {
            if let text = inputs.read(option.path) {
                inputs.dockerfiles.append(
                    DockerfileInput(file: option.path, text: text, container: option.container, explicit: true))
            }
        }
        var stdinRead = false
        for path in options.paths {
            if path == "-" {
                guard !stdinRead else { continue }
                stdinRead = true
                if let text = inputs.decode(readStandardInput(), file: "-") { inputs.manifests.append(("-", text)) }
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                inputs.problems.append(Report.InputProblem(file: path, mark: nil, message: "no such file or directory"))
                continue
            }
            if isDirectory.boolValue {
                inputs.walk(path)
            } else {
                inputs.add(path, explicit: true)
            }
        }
        return inputs
    }

    mutating func add(_ path: String, explicit: Bool) {
        let name = (path as NSString).lastPathComponent
        if Self.isDockerfile(name) {
            if !dockerfiles.contains(where: { $0.file == path }), let text = read(path) {
                dockerfiles.append(DockerfileInput(file: path, text: text, explicit: explicit))
            }
        } else if let text = read(path) {
            manifests.append((path, text))
        }
    }

    /// Every manifest and Dockerfile below DIRECTORY, in name order; hidden entries skipped.
    mutating func walk(_ directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            problems.append(Report.InputProblem(file: directory, mark: nil, message: "cannot read the directory"))
            return
        }
        for name in names.sorted() where !name.hasPrefix(".") {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                walk(path)
            } else if Self.isDockerfile(name)
                || Self.manifestExtensions.contains((name as NSString).pathExtension.lowercased())
            {
                add(path, explicit: false)
            }
        }
    }

    mutating func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            problems.append(Report.InputProblem(file: path, mark: nil, message: "cannot read the file"))
            return nil
        }
        return decode(data, file: path)
    }

    /// UTF-8 text (a BOM dropped); NUL bytes or invalid UTF-8 make it a binary file.
    mutating func decode(_ data: Data, file: String) -> String? {
        enum Decoded {
            case text(String)
            case binary
            case notUTF8
        }
        let decoded: Decoded = data.withUnsafeBytes { raw in
            var bytes = raw.bindMemory(to: UInt8.self)[...]
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
            if bytes.contains(0) { return .binary }
            return String(validating: bytes, as: UTF8.self).map { .text($0) } ?? .notUTF8
        }
        switch decoded {
        case .text(let text): return text
        case .binary:
            problems.append(Report.InputProblem(file: file, mark: nil, message: "a binary file (NUL bytes), not YAML"))
        case .notUTF8:
            problems.append(Report.InputProblem(file: file, mark: nil, message: "not UTF-8 text"))
        }
        return nil
    }
}
