import Autodiff
import Environments
@testable import Experiments
import Foundation
import MetaLearning
import Testing

@Suite("Training runs end to end")
struct TrainingRunTests {
    /// A small but complete configuration: 3 tasks, 3 episodes of 15 steps, a 2→8→2 policy.
    static func smallRun(iterations: Int, threads: Int = 2) -> (TrainingConfiguration, EnvironmentSpec) {
        var c = TrainingConfiguration()
        c.iterations = iterations
        c.metaBatchSize = 3
        c.fastBatchSize = 3
        c.hidden = [8]
        c.threads = threads
        c.maml.maxKL = 0.05
        var family = PointRobotFamily.navigation
        family.horizon = 15
        return (c, EnvironmentSpec(name: "small-navigation", path: "", description: "", family: AnyEnvironmentFamily(family)))
    }

    /// `progress.csv` (or another of the run's CSV files) without its wall-clock columns
    /// (`time/*`), which no two runs share.
    func columnsWithoutTimes(_ directory: URL, file: String = "progress.csv") throws -> [String] {
        let lines = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
        let kept = lines[0].split(separator: ",").enumerated().filter { !$0.element.hasPrefix("time/") }.map(\.offset)
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return kept.map { String(fields[$0]) }.joined(separator: ",")
        }
    }

    @Test func aRunWritesItsFilesAndResumesExactly() throws {
        let straight = temporaryDirectory("straight"), resumed = temporaryDirectory("resumed")
        defer { [straight, resumed].forEach { try? FileManager.default.removeItem(at: $0) } }
        let (c3, spec) = Self.smallRun(iterations: 3)
        var run = try TrainingRun.start(configuration: c3, spec: spec, directory: straight)
        var seen: [Int] = []
        try run.run { seen.append($0.iteration) }
        #expect(seen == [1, 2, 3])
        for file in ["config.toml", "progress.csv", "checkpoint.json", "checkpoint.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: straight.appendingPathComponent(file).path), "\(file)")
        }
        let (c2, _) = Self.smallRun(iterations: 2)
        var first = try TrainingRun.start(configuration: c2, spec: spec, directory: resumed)
        try first.run()
        var second = try TrainingRun.resume(directory: resumed, iterations: 3)
        try second.run()
        #expect(try columnsWithoutTimes(straight) == columnsWithoutTimes(resumed))
        #expect(try columnsWithoutTimes(straight).count == 4)  // header + 3 rows
        #expect(try Data(contentsOf: straight.appendingPathComponent("checkpoint.safetensors"))
                == Data(contentsOf: resumed.appendingPathComponent("checkpoint.safetensors")))
    }

    /// Learners with state beyond the policy (Adam's moments, ProMP's penalty, Meta-SGD's step
    /// sizes, CAVIA's context weights) resume exactly too, and across thread counts.
    @Test("Every learner resumes exactly", arguments: MetaLearners.all.map(\.name))
    func everyLearnerResumesExactly(algorithm: String) throws {
        let straight = temporaryDirectory("straight-\(algorithm)"), resumed = temporaryDirectory("resumed-\(algorithm)")
        defer { [straight, resumed].forEach { try? FileManager.default.removeItem(at: $0) } }
        var (c3, spec) = Self.smallRun(iterations: 3, threads: 1)
        c3.algorithm = algorithm
        c3.reptile.innerSteps = 2
        if c3.adaptsInMemory {
            // RL² has no MLP and no episodes per step; two trials per batch make two batches to spread.
            c3.hidden = TrainingConfiguration().hidden
            c3.fastBatchSize = TrainingConfiguration().fastBatchSize
            c3.rl2.hiddenSize = 6
            c3.rl2.trialsPerBatch = 2
            c3.rl2.minibatches = 2
            c3.rl2.normalisesRewards = true   // its running moments must resume too
        }
        var run = try TrainingRun.start(configuration: c3, spec: spec, directory: straight)
        try run.run()
        var c2 = c3
        c2.iterations = 2
        c2.threads = 2
        var first = try TrainingRun.start(configuration: c2, spec: spec, directory: resumed)
        try first.run()
        var second = try TrainingRun.resume(directory: resumed, iterations: 3, threads: 1)
        try second.run()
        #expect(try columnsWithoutTimes(straight) == columnsWithoutTimes(resumed))
        let a = try Checkpoint.load(from: straight), b = try Checkpoint.load(from: resumed)
        #expect(zip(a.parameters, b.parameters).allSatisfy { $0.scalars == $1.scalars })
        #expect(a.learnerState.map(\.name) == b.learnerState.map(\.name))
        #expect(zip(a.learnerState, b.learnerState).allSatisfy { $0.tensor.scalars == $1.tensor.scalars })
    }

    /// A resumed run may add iterations, never take back ones done.
    @Test func aResumedRunCannotEndBeforeWhereItStands() throws {
        let directory = temporaryDirectory("shorter")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (c, spec) = Self.smallRun(iterations: 2)
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        try run.run()
        let error = #expect(throws: RunError.self) { try TrainingRun.resume(directory: directory, iterations: 1) }
        guard case .invalidConfiguration(let key, let reason)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(key == "iterations" && reason.contains("has completed 2 iterations"))
        #expect(try TrainingRun.resume(directory: directory, iterations: 2).trainer.iteration == 2)
    }

    @Test func theThreadCountDoesNotChangeTheNumbers() throws {
        let one = temporaryDirectory("one"), two = temporaryDirectory("two")
        defer { [one, two].forEach { try? FileManager.default.removeItem(at: $0) } }
        let (c1, spec) = Self.smallRun(iterations: 2, threads: 1)
        var a = try TrainingRun.start(configuration: c1, spec: spec, directory: one)
        try a.run()
        let (c2, _) = Self.smallRun(iterations: 2, threads: 2)
        var b = try TrainingRun.start(configuration: c2, spec: spec, directory: two)
        try b.run()
        #expect(try columnsWithoutTimes(one) == columnsWithoutTimes(two))
    }

    @Test func aFailedStartLeavesAnExistingRunUntouched() throws {
        let directory = temporaryDirectory("existing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let marker = directory.appendingPathComponent("progress.csv")
        try "earlier run".write(to: marker, atomically: true, encoding: .utf8)
        let (c, spec) = Self.smallRun(iterations: 1)
        #expect(throws: RunError.runDirectoryNotEmpty(path: directory.path)) {
            try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        }
        #expect(try String(contentsOf: marker, encoding: .utf8) == "earlier run")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["progress.csv"])
    }

    /// A NaN in the parameters stops the run at once, naming what went non-finite and where,
    /// and the last checkpoint stays byte for byte as it was (it used to surface five baseline
    /// retries later, or as a line search that silently rejected every trial).
    @Test func aNonFiniteValueStopsTheRunAndKeepsTheLastCheckpoint() throws {
        let directory = temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (c, spec) = Self.smallRun(iterations: 1)
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        try run.run()
        // A checkpoint whose policy has gone NaN, as a diverged update would leave it.
        var poisoned = try Checkpoint.load(from: directory)
        poisoned.parameters[0] = poisoned.parameters[0] * Float.nan
        try poisoned.save(in: directory)
        let files = ["checkpoint.safetensors", "checkpoint.json", "progress.csv"]
        let before = try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) }
        var resumed = try TrainingRun.resume(directory: directory, iterations: 3)
        let error = #expect(throws: NonFiniteValueError.self) { try resumed.run() }
        #expect(error?.iteration == 2)
        #expect(error?.quantity == "the policy's parameters", "\(String(describing: error))")
        #expect(try files.map { try Data(contentsOf: directory.appendingPathComponent($0)) } == before)
    }

    @Test func aNonFiniteMetaGradientIsRefusedByTheUpdate() throws {
        let (c, spec) = Self.smallRun(iterations: 1)
        let trainer = MetaTrainer(configuration: c, family: spec.family)
        guard case .gradient(var learner, let sampler) = trainer.engine else { Issue.record("maml-trpo is gradient-based"); return }
        let rollouts = try sampler.collectMetaBatch(learner: learner, parameters: trainer.parameters, seed: 1,
                                                    iteration: 0, count: 2, threads: 1)
        var poisoned = trainer.parameters
        poisoned[1] = poisoned[1] + Float.infinity
        #expect(throws: NonFiniteValueError.self) { try learner.update(poisoned, rollouts: rollouts, threads: 1) }
        _ = try learner.update(trainer.parameters, rollouts: rollouts, threads: 1)
    }

    /// Training then evaluating: adaptation must already help after a few iterations.
    @Test func trainingAFewIterationsThenEvaluating() throws {
        let directory = temporaryDirectory("evaluate")
        defer { try? FileManager.default.removeItem(at: directory) }
        var (c, spec) = Self.smallRun(iterations: 4)
        c.metaBatchSize = 4
        c.fastBatchSize = 5
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        try run.run()
        let checkpoint = try Checkpoint.load(from: directory)
        #expect(checkpoint.manifest.iteration == 4)
        let learner = try checkpoint.learner(path: directory.path)
        let sampler = FamilySampler(family: checkpoint.manifest.family, policy: try #require(checkpoint.manifest.policy), episodes: 5)
        let steps = try sampler.evaluate(AdaptationEvaluation(learner: learner, steps: 2, halvesStepAfterFirst: false),
                                         parameters: checkpoint.parameters, taskCount: 6, seed: 1, threads: 2)
        #expect(steps.map(\.step) == [0, 1, 2])
        #expect(steps.allSatisfy { $0.taskReturns.count == 6 && $0.standardError > 0 })
        // Returns of 15-step episodes with reward −distance ≤ 0 lie in [−15·(√2·0.5 + 1.5·√2), 0].
        #expect(steps.allSatisfy { $0.meanReturn < 0 && $0.meanReturn > -45 })
    }
}
