import VigilCore

/// A Dockerfile to lint, and the containers it is the image of.
public struct DockerfileInput: Sendable {
    public var file: String
    public var text: String
    /// The container it builds (`--dockerfile NAME=PATH`); nil: every container, when it is the
    /// only Dockerfile without a name.
    public var container: String?
    /// Given with `--dockerfile` (rather than found in a directory): linted even without vigil.
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

/// Runs every rule over the objects and Dockerfiles. Pure: values in, findings out, sorted by
/// file (in input order), line, column and rule.
public enum Linter {
    public static func lint(
        _ objects: ObjectSet, dockerfiles: [DockerfileInput] = [], ignoring ignored: Set<String> = []
    )
        -> LintResult
    {
        var findings: [Finding] = []
        var images: [(input: DockerfileInput, image: DockerImage, problems: [ConfigurationProblem])] = []
        for input in dockerfiles {
            let image = DockerfileParser.parse(input.text, file: input.file)
            var sink = FindingSink(file: input.file, kind: "Dockerfile", ignored: ignored)
            let problems = DockerfileRules.check(image, explicit: input.explicit, into: &sink)
            findings += sink.findings
            images.append((input, image, problems))
        }
        let unnamed = images.filter { $0.input.container == nil && $0.image.mentionsVigil }
        func image(for container: String) -> (DockerImage, [ConfigurationProblem])? {
            let named = images.first { $0.input.container == container } ?? (unnamed.count == 1 ? unnamed[0] : nil)
            return named.map { ($0.image, $0.problems) }
        }

        var vigilWorkloads: [ClusterRules.VigilWorkload] = []
        for workload in objects.workloads {
            var sink = FindingSink(meta: workload.meta, ignored: ignored)
            checkAnnotation(workload.meta, into: &sink)
            if let pod = workload.pod {
                let vigils = pod.containers.map { container in
                    (VigilContainer(container, image: image(for: container.name)?.0), image(for: container.name)?.1)
                }.filter { $0.0.underVigil }
                for (vigil, imageProblems) in vigils {
                    ContainerRules.environment(vigil, imageProblems: imageProblems ?? [], into: &sink)
                    ContainerRules.entrypoint(vigil, into: &sink)
                    ProbeRules.check(vigil, service: workload.kind.isService, into: &sink)
                    TerminationRules.check(vigil, pod: pod, into: &sink)
                }
                if !vigils.isEmpty {
                    let containers = vigils.map(\.0)
                    WorkloadRules.check(workload, containers, objects: objects, into: &sink)
                    let replicas = WorkloadRules.effectiveReplicas(workload, objects).count
                    vigilWorkloads.append(.init(workload: workload, pod: pod, vigils: containers, replicas: replicas))
                }
            }
            findings += sink.findings
        }
        for budget in objects.budgets {
            var sink = FindingSink(meta: budget.meta, ignored: ignored)
            checkAnnotation(budget.meta, into: &sink)
            ClusterRules.budget(budget, vigilWorkloads, into: &sink)
            findings += sink.findings
        }
        for service in objects.services {
            var sink = FindingSink(meta: service.meta, ignored: ignored)
            checkAnnotation(service.meta, into: &sink)
            ClusterRules.service(service, vigilWorkloads, into: &sink)
            findings += sink.findings
        }
        for autoscaler in objects.autoscalers {
            var sink = FindingSink(meta: autoscaler.meta, ignored: ignored)
            checkAnnotation(autoscaler.meta, into: &sink)
            findings += sink.findings
        }
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
