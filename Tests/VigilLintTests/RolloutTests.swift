import Testing

@testable import VigilLintCore

@Suite struct RolloutMathTests {
    /// (replicas, maxSurge, maxUnavailable) → (surge, unavailable), as the Deployment controller
    /// computes them (surge rounds up, unavailable down, both 0 → unavailable 1).
    @Test(arguments: [
        (3, nil, nil, 1, 0), (4, nil, nil, 1, 1), (10, nil, nil, 3, 2), (1, nil, nil, 1, 0),
        (4, IntOrPercent.int(1), IntOrPercent.int(0), 1, 0), (4, .percent(0), .percent(0), 0, 1),
        (3, .int(0), .percent(10), 0, 1), (20, .percent(10), .percent(10), 2, 2), (7, .percent(50), .percent(50), 4, 3),
    ])
    func deployment(
        replicas: Int, surge: IntOrPercent?, unavailable: IntOrPercent?, wantSurge: Int, wantUnavailable: Int
    ) {
        let result = RolloutMath.deployment(replicas: replicas, maxSurge: surge, maxUnavailable: unavailable)
        #expect(result.surge == wantSurge && result.unavailable == wantUnavailable)
    }

    @Test func daemonSetPercentagesRoundUpOnAnyNodeCount() {
        #expect(RolloutMath.daemonSet(maxSurge: nil, maxUnavailable: nil) == (0, 1))
        #expect(RolloutMath.daemonSet(maxSurge: .percent(10), maxUnavailable: .int(0)) == (1, 0))
        #expect(RolloutMath.daemonSet(maxSurge: .int(1), maxUnavailable: .percent(0)) == (1, 0))
    }

    @Test func budgetsThatForbidEveryDisruption() {
        #expect(RolloutMath.forbidsDisruption(minAvailable: nil, maxUnavailable: .int(0), replicas: 3))
        #expect(RolloutMath.forbidsDisruption(minAvailable: nil, maxUnavailable: .percent(0), replicas: 3))
        #expect(!RolloutMath.forbidsDisruption(minAvailable: nil, maxUnavailable: .percent(10), replicas: 3))
        #expect(RolloutMath.forbidsDisruption(minAvailable: .percent(100), maxUnavailable: nil, replicas: nil))
        #expect(RolloutMath.forbidsDisruption(minAvailable: .int(3), maxUnavailable: nil, replicas: 3))
        #expect(!RolloutMath.forbidsDisruption(minAvailable: .int(2), maxUnavailable: nil, replicas: 3))
        #expect(RolloutMath.forbidsDisruption(minAvailable: .percent(90), maxUnavailable: nil, replicas: 3) == false)
    }
}

@Suite struct RolloutRuleTests {
    @Test(arguments: [
        ("replicas: 3", "replicas: 1", ["replicas-below-two"]),
        ("replicas: 3", "replicas: 4", []),
        ("{maxSurge: 1, maxUnavailable: 0}", "{maxSurge: 25%, maxUnavailable: 25%}", []),
        ("{maxSurge: 1, maxUnavailable: 0}", "{maxSurge: 1, maxUnavailable: 1}", ["rolling-update-unavailable"]),
        ("  strategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "", []),
        ("    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "    type: Recreate\n", ["recreate-strategy"]),
        ("  replicas: 3\n", "  replicas: 3\n  minReadySeconds: 10\n", ["min-ready-seconds"]),
        ("  replicas: 3\n", "  replicas: 3\n  progressDeadlineSeconds: 0\n", ["progress-deadline"]),
    ])
    func deployments(_ original: String, _ replacement: String, _ expected: [String]) throws {
        #expect(try rules(try changed(original, replacement)) == expected)
    }

    @Test func fourReplicasWithTheDefaultsLoseOne() throws {
        var yaml = try changed("replicas: 3", "replicas: 4")
        yaml = try changed("  strategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "", in: yaml)
        let finding = try #require(try findings(yaml).first)
        #expect(finding.rule == "rolling-update-unavailable")
        #expect(finding.message.hasPrefix("maxUnavailable (default 25%) of 4 replicas is 1 pod (maxSurge 1)"))
        #expect(finding.mark == SourceMark(line: 1, column: 1))  // the field is absent: the object
    }

    @Test func vigilMinReadyCoversMinReadySeconds() throws {
        var yaml = try changed("  replicas: 3\n", "  replicas: 3\n  minReadySeconds: 10\n")
        yaml = try changed(
            "{name: VIGIL_DRAIN_DELAY, value: \"10s\"}", "{name: VIGIL_MIN_READY, value: \"10s\"}", in: yaml)
        #expect(try rules(yaml).isEmpty)
    }

    @Test func anHPAsMinimumCountsAsTheReplicas() throws {
        let hpa = """
            ---
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata: {name: web-hpa, namespace: shop}
            spec:
              scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
              minReplicas: 1
              maxReplicas: 5

            """
        let finding = try #require(try findings(goodDeployment + hpa).first)
        #expect(finding.rule == "replicas-below-two" && finding.message.hasPrefix("HPA web-hpa minReplicas 1"))
    }

    @Test func budgets() throws {
        let noBudget = goodDeployment.components("---\n")[0]
        #expect(try rules(noBudget) == ["pdb-missing"])
        let selector = "  maxUnavailable: 1\n  selector:\n    matchLabels: {app: web}\n"
        let other = try changed(selector, "  maxUnavailable: 1\n  selector:\n    matchLabels: {app: api}\n")
        #expect(try rules(other) == ["pdb-missing"])
        let expressions = try changed(
            selector,
            "  maxUnavailable: 1\n  selector:\n    matchExpressions: [{key: app, operator: In, values: [web]}]\n")
        #expect(try rules(expressions).isEmpty)
        let forbids = try changed("  maxUnavailable: 1\n", "  maxUnavailable: 0\n")
        let finding = try #require(try findings(forbids).first)
        #expect(finding.rule == "pdb-forbids-disruption" && finding.kind == "PodDisruptionBudget")
        let minAvailable = try changed("  maxUnavailable: 1\n", "  minAvailable: 3\n")
        #expect(try rules(minAvailable) == ["pdb-forbids-disruption"])
    }

    @Test func aServiceInFrontOfVigilsPort() throws {
        let service = """
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              selector: {app: web}
              ports:
                - {name: http, port: 80, targetPort: http}
                - {name: metrics, port: 7979, targetPort: 7979}
                - {name: probes, port: 7979}

            """
        let found = try findings(goodDeployment + service)
        #expect(found.map(\.rule) == ["service-targets-vigil-port", "service-targets-vigil-port"])
        #expect(found.map(\.field) == ["spec.ports[1].targetPort", "spec.ports[2]"])
    }

    @Test func daemonSets() throws {
        let daemonSet = try changed("kind: Deployment", "kind: DaemonSet")
        let rolled = try changed("  strategy:\n", "  updateStrategy:\n", in: daemonSet)
        #expect(try rules(rolled).isEmpty)
        let defaults = try changed(
            "  strategy:\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}\n", "", in: daemonSet)
        #expect(try rules(defaults) == ["rolling-update-unavailable"])
    }
}

extension String {
    func components(_ separator: String) -> [String] {
        var parts: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            parts.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        parts.append(String(rest))
        return parts
    }
}
