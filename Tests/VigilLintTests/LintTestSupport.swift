import Foundation
import Testing
import VigilCore

@testable import VigilLint
@testable import VigilLintCore

/// A Deployment under vigil that passes every rule; tests change one thing in it.
let goodDeployment = """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      namespace: shop
    spec:
      replicas: 3
      selector:
        matchLabels: {app: web}
      strategy:
        rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
      template:
        metadata:
          labels: {app: web}
        spec:
          terminationGracePeriodSeconds: 35
          containers:
            - name: app
              image: web:1
              ports:
                - {name: http, containerPort: 8080}
                - {name: vigil, containerPort: 7979}
              env:
                - {name: VIGIL_CHECK_APP, value: "http://127.0.0.1:8080/healthz"}
                - {name: VIGIL_CHECK_APP_PROBES, value: "startup,live,ready"}
                - {name: VIGIL_DRAIN_DELAY, value: "10s"}
                - {name: VIGIL_STOP_TIMEOUT, value: "20s"}
              startupProbe:
                httpGet: {path: /startupz, port: vigil}
                periodSeconds: 2
                failureThreshold: 60
              readinessProbe:
                httpGet: {path: /readyz, port: vigil}
                periodSeconds: 2
                failureThreshold: 1
              livenessProbe:
                httpGet: {path: /livez, port: vigil}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: web, namespace: shop}
    spec:
      maxUnavailable: 1
      selector:
        matchLabels: {app: web}

    """

/// YAML text to objects, through the same reader the tool uses.
func objects(_ yaml: String, file: String = "test.yaml") throws -> ObjectSet {
    var set = ObjectSet()
    for document in try YAMLReader.documents(yaml, file: file) {
        set.append(contentsOf: ObjectReader.read(document, file: file))
    }
    return set
}

func findings(
    _ yaml: String, dockerfiles: [DockerfileInput] = [], ignoring: Set<String> = []
) throws -> [Finding] {
    Linter.lint(try objects(yaml), dockerfiles: dockerfiles, ignoring: ignoring).findings
}

func rules(_ yaml: String, dockerfiles: [DockerfileInput] = []) throws -> [String] {
    try findings(yaml, dockerfiles: dockerfiles).map(\.rule)
}

/// The good Deployment with one text replaced (the original must be in it).
func changed(_ original: String, _ replacement: String, in yaml: String = goodDeployment) throws -> String {
    guard yaml.contains(original) else { throw FixtureError(missing: original) }
    return yaml.replacing(original, with: replacement, maxReplacements: 1)
}

struct FixtureError: Error { let missing: String }

/// A Pod with the given `containers:` items (indented by four spaces).
func pod(_ containers: String) -> String {
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n" + containers
}

func dockerfile(_ text: String, container: String? = nil, explicit: Bool = true) -> DockerfileInput {
    DockerfileInput(file: "Dockerfile", text: text, container: container, explicit: explicit)
}

/// The repository, from this file's path (Tests/VigilLintTests/…).
let repositoryRoot: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/")
}()

struct ReadError: Error { let path: String }

func readText(_ path: String) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(path: path) }
    return String(decoding: data, as: UTF8.self)
}
