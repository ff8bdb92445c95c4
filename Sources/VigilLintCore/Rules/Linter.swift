import VigilCore

/// A Dockerfile to lint, and the containers it is the image of.
public struct DockerfileInput: Sendable {
    public var file: String
    public var text: String
    /// The container it builds (`--dockerfile NAME=PATH`); nil: every container, when it is the
    /// only Dockerfile given without a name.
    public var container: String?
    /// Given by name (`--dockerfile`, or as a path) rather than found in a directory: linted even
    /// without vigil, and the image of every container. A Dockerfile found in a directory is the
    /// image of the containers of the manifests in and below that directory.
    public var explicit: Bool

    public init(file: String, text: String, container: String? = nil, explicit: Bool) {
        self.file = file
        self.text = text
        self.container = container
        self.explicit = explicit
    }
}

public struct LintResult: Sendable {
    public var subjects: [Report.Subject]
    public var findings: [Finding]
}

/// Splits work over threads; the caller decides how (VigilLint uses threads, tests run it inline).
public protocol WorkSplitter: Sendable {
    var workers: Int { get }
    func map<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T]
}

/// One thing after another.
public struct InlineWork: WorkSplitter {
    public init() {}
    public var workers: Int { 1 }
    public func map<T: Sendable>(_ count: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] { (0..<count).map(body) }
}

/// Runs every rule over the objects and Dockerfiles. Pure: values in, findings out, sorted by
/// file (in input order), line, column and rule.
public enum Linter {
    public static func lint(
        _ objects: ObjectSet, dockerfiles: [DockerfileInput] = [], ignoring ignored: Set<String> = [],
        splitter: some WorkSplitter = InlineWork()
    ) -> LintResult {
        var findings: [Finding] = []
        var images: [Context.Image] = []
        for input in dockerfiles {
            let image = DockerfileParser.parse(input.text, file: input.file)
            var sink = FindingSink(file: input.file, kind: "Dockerfile", ignored: ignored)
            let problems = DockerfileRules.check(image, explicit: input.explicit, into: &sink)
            findings += sink.findings
            images.append(Context.Image(input: input, image: image, problems: problems))
        }
        let context = Context(objects: objects, images: images, ignored: ignored)
        // Workloads in slices, one per worker: each workload's rules read the others only.
        let count = objects.workloads.count
        let slices = count < 64 ? 1 : splitter.workers
        let parts = splitter.map(slices) { slice in
            context.lintWorkloads((count * slice / slices)..<(count * (slice + 1) / slices))
        }
        var vigilWorkloads: [ClusterRules.VigilWorkload] = []
        for part in parts {
            findings += part.findings
            vigilWorkloads += part.vigil
        }
        findings += context.lintClusterObjects(vigilWorkloads)
        return LintResult(
            subjects: Report.subjects(of: objects, dockerfiles: dockerfiles.map(\.file)),
            findings: sorted(findings, objects, dockerfiles))
    }

    static func checkAnnotation(_ meta: ObjectMeta, into sink: inout FindingSink) {
        guard let ignored = meta.ignored else { return }
        for id in ignored.value where Rule.named(id) == nil {
            let suggestion = EditDistance.closest(to: id, among: Rule.all.map(\.id))
            sink.report(
                .ignoreUnknownID, ignored, "\(ObjectReader.ignoreAnnotation) names \(id), which is not a rule",
                fix: suggestion.map { "did you mean \($0)?" } ?? Rule.ignoreUnknownID.fix)
        }
    }

    static func sorted(_ findings: [Finding], _ objects: ObjectSet, _ dockerfiles: [DockerfileInput]) -> [Finding] {
        var rank: [String: Int] = [:]
        let files =
            objects.workloads.map(\.meta.file) + objects.services.map(\.meta.file) + objects.budgets.map(\.meta.file)
            + objects.autoscalers.map(\.meta.file) + dockerfiles.map(\.file)
        for file in files where rank[file] == nil { rank[file] = rank.count }
        return findings.sorted {
            let a = (rank[$0.file] ?? 0, $0.mark.line, $0.mark.column)
            let b = (rank[$1.file] ?? 0, $1.mark.line, $1.mark.column)
            return a != b ? a < b : ($0.rule, $0.container ?? "") < ($1.rule, $1.container ?? "")
        }
    }
}
