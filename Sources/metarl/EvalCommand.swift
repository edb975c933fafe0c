import ArgumentParser
import Autodiff
import Environments
import Experiments
import Foundation
import MetaLearning

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure how a meta-trained policy adapts: returns after 0, 1, …, k steps on held-out tasks.",
        discussion: """
            Samples --tasks fresh tasks from the run's environment family (from a random stream kept \
            apart from the training tasks), and on each: rolls out --episodes episodes, takes a \
            policy-gradient step on them with the run's α (α/2 after the first step, unless \
            --no-halve-step), rolls out again, and so on. Prints the mean return over tasks and its \
            standard error after each number of steps. The defaults are the MAML paper's protocol.

            For a memory-based learner (rl2) adaptation is the trial itself: on each task it runs \
            --trials trials and reports the mean return of episode 1, 2, …, k of a trial (in --json, \
            as "steps" whose "step" is the episode's index from 0, with "unit": "trial-episode").

            Examples:
              metarl eval runs/nav
              metarl eval runs/gridnavi-rl2 --trials 20
              metarl eval runs/nav/checkpoint.json --steps 3 --json
              metarl eval runs/nav --iteration 100                (a checkpoint kept by --keep-every)
              metarl eval runs/nav --spec navigation-far          (out of distribution)
              metarl eval runs/nav --save-episodes nav.npz        (every episode, for NumPy)
              metarl eval runs/nav --episodes 20 --no-halve-step   (pytorch-maml-rl)
              metarl eval runs/nav --random-init                  (random baseline)
              metarl eval runs/nav --step-sizes 0.1,0.025,0.025   (own step sizes)
              metarl eval runs/nav --min-steps 4000               (the paper's batches)
            """
    )

    @Argument(help: "A run directory, or the path of its checkpoint.json or checkpoint.safetensors.")
    var checkpoint: String

    @Option(parsing: .unconditional, help: "Evaluate the run's checkpoint of iteration N (kept by train --keep-every) instead of its latest.")
    var iteration: Int?

    @Option(help: "Evaluate on the tasks of another spec (a preset or a path) instead of the run's own: shifted goals, another map. Its observations and actions must be those the policy was trained on.")
    var spec: String?

    @Option(help: "Write every evaluated episode (observations, actions, rewards, task, adaptation step) to this NumPy .npz file.")
    var saveEpisodes: String?

    @Option(parsing: .unconditional, help: "Held-out tasks to evaluate on.")
    var tasks = 40

    @Option(parsing: .unconditional, help: "Adaptation steps after the unadapted rollout (default 3).")
    var steps: Int?

    @Option(name: .customLong("episodes"), parsing: .unconditional, help: "Episodes per task and step (40 in the MAML paper's test protocol).")
    var episodesOption: Int?

    var episodes: Int { episodesOption ?? 40 }

    @Option(parsing: .unconditional, help: "Trials per task for a memory-based learner (rl2; default 10).")
    var trials: Int?

    @Option(parsing: .unconditional, help: """
        Sample batches of --episodes until a step's rollout holds at least this many steps (whole \
        episodes; default 0, one batch). The MAML paper's test script gathered 4000 steps, that \
        is, more episodes once adapted policies reach the goal early.
        """)
    var minSteps = 0

    @Flag(name: .customLong("halve-step"), inversion: .prefixedNo, help: "α for the first step and α/2 after it, as the MAML paper's test protocol (default); --no-halve-step keeps α throughout.")
    var halveStepFlag: Bool?

    /// The step-size rule: halving unless --no-halve-step.
    var halveStep: Bool { halveStepFlag ?? true }

    @Option(help: """
        The step size of each adaptation step, comma-separated (for example 0.1,0.025,0.025), \
        instead of the run's α and the halving rule; their count is the number of steps.
        """)
    var stepSizes: String?

    @Flag(help: "Evaluate a freshly initialised policy of the same shape instead (the random-initialisation baseline).")
    var randomInit = false

    @Option(parsing: .unconditional, help: "Seed of the held-out tasks and of sampling.")
    var seed: UInt64 = 1

    @Option(parsing: .unconditional, help: "Threads to spread the tasks over (default: all cores). Results do not depend on it.")
    var threads: Int?

    @Flag(help: "Print one JSON object: {\"steps\": [{\"step\", \"mean_return\", \"stderr\", …}], …}.")
    var json = false

    func validate() throws {
        try require(tasks, "--tasks", in: 1...100_000)
        if let iteration { try require(iteration, "--iteration", in: 0...1_000_000) }
        if let saveEpisodes {
            guard saveEpisodes.lowercased().hasSuffix(".npz") else {
                throw ValidationError("--save-episodes writes a NumPy archive; name a .npz file, got \(saveEpisodes)")
            }
            let folder = URL(fileURLWithPath: saveEpisodes).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--save-episodes: the directory \(folder) does not exist")
            }
        }
        if let steps { try require(steps, "--steps", in: 0...1000) }
        try require(episodes, "--episodes", in: 1...100_000)
        if let trials { try require(trials, "--trials", in: 1...100_000) }
        if let threads { try require(threads, "--threads", in: 1...256) }
        try require(minSteps, "--min-steps", in: 0...100_000_000)
        if let sizes = try explicitStepSizes() {
            if let steps, steps != sizes.count {
                throw ValidationError("--steps \(steps) and \(sizes.count) --step-sizes disagree; give one of them")
            }
            if halveStepFlag != nil {
                throw ValidationError("--step-sizes sets every step's size; do not combine it with --halve-step or --no-halve-step")
            }
        }
    }

    /// --step-sizes as numbers, or nil when not given.
    func explicitStepSizes() throws -> [Double]? {
        guard let stepSizes else { return nil }
        let values = stepSizes.split(separator: ",", omittingEmptySubsequences: false).map {
            Double($0.trimmingCharacters(in: .whitespaces))
        }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && $0! >= 0 && $0! <= 1e6 }) else {
            throw ValidationError("--step-sizes must be numbers in [0, 10⁶] separated by commas, got \"\(stepSizes)\"")
        }
        return values.map { $0! }
    }

    /// The family to evaluate on: the run's, or --spec's when it fits the policy.
    func evaluatedFamily(_ manifest: Checkpoint.Manifest) throws -> (name: String, family: AnyEnvironmentFamily) {
        guard let spec else { return (manifest.specName, manifest.family) }
        let loaded = try EnvironmentSpec.load(spec)
        let trained = manifest.policyDescription, other: Checkpoint.PolicyDescription
        if manifest.recurrentPolicy != nil {
            other = .recurrent(TrialFamilySampler.policy(for: loaded.family, hiddenSize: manifest.configuration.rl2.hiddenSize,
                                                         cellKind: manifest.configuration.rl2.cell))
        } else {
            other = .feedForward(FamilySampler.policy(for: loaded.family, hidden: manifest.configuration.hidden,
                                                      activation: manifest.configuration.activation))
        }
        guard loaded.family.name == manifest.family.name, other.parameterShapes == trained.parameterShapes else {
            throw CommandFailure(description: """
                --spec \(spec): its tasks do not fit the policy trained on \(manifest.specName) (\(trained.summary), \
                \(manifest.family.name)); the spec gives a \(loaded.family.name) policy of shapes \(other.parameterShapes), \
                the run's has \(trained.parameterShapes)
                """)
        }
        return (loaded.name, loaded.family)
    }

    /// What --json and the saved episodes record of where the numbers come from.
    struct Provenance: Encodable {
        var run: String
        var trainedSpec: String
        var evaluatedSpec: String
        var seed: UInt64
        var runConfiguration: TrainingConfiguration
        enum CodingKeys: String, CodingKey {
            case run
            case trainedSpec = "trained_spec"
            case evaluatedSpec = "evaluated_spec"
            case seed
            case runConfiguration = "run_configuration"
        }
    }

    func provenance(_ manifest: Checkpoint.Manifest, evaluated: String) -> Provenance {
        Provenance(run: checkpoint, trainedSpec: manifest.specName, evaluatedSpec: evaluated, seed: seed,
                   runConfiguration: manifest.configuration)
    }

    func save(_ episodes: EvaluatedEpisodes, tasks: [String], provenance: Provenance, extra: [String: String]) throws {
        guard let saveEpisodes else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var info = (try JSONSerialization.jsonObject(with: try encoder.encode(provenance))) as? [String: Any] ?? [:]
        for (k, v) in extra { info[k] = v }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: info, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        try episodes.archive(tasks: tasks, info: text).write(to: URL(fileURLWithPath: saveEpisodes))
        FileHandle.standardError.write(Data("wrote \(saveEpisodes): \(episodes.episodeCount) episodes on \(tasks.count) tasks\n".utf8))
    }

    func run() throws {
        let loaded = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint), iteration: iteration)
        if let saveEpisodes {
            do {
                try WritableFolder.probe(URL(fileURLWithPath: saveEpisodes).deletingLastPathComponent())
            } catch let error as RunError {
                throw CommandFailure(description: "--save-episodes: \(error)")
            }
        }
        guard let policy = loaded.manifest.policy else { return try runTrials(loaded) }
        if trials != nil {
            throw CommandFailure(description: "--trials is for memory-based learners; \(loaded.manifest.configuration.algorithm) adapts by gradient steps (--steps, --episodes)")
        }
        let manifest = loaded.manifest
        let (evaluatedSpec, family) = try evaluatedFamily(manifest)
        var learner = try loaded.learner(path: checkpoint)
        var parameters = loaded.parameters
        if randomInit {
            learner = manifest.configuration.makeLearner(policy: policy)
            var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
            parameters = policy.initialParameters(as: Float.self, using: &rng)
        }
        let sampler = FamilySampler(family: family, policy: policy, episodes: episodes)
        var evaluation = try explicitStepSizes().map { AdaptationEvaluation(learner: learner, stepSizes: $0) }
            ?? AdaptationEvaluation(learner: learner, steps: steps ?? 3, halvesStepAfterFirst: halveStep)
        evaluation.minimumSteps = minSteps
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let results: [AdaptationEvaluation.Step]
        if saveEpisodes != nil {
            let kept = try sampler.evaluateKeepingEpisodes(evaluation, parameters: parameters, taskCount: tasks, seed: seed, threads: threads)
            results = kept.steps
            var archive = EvaluatedEpisodes(observationSize: policy.observationSize, actionSize: policy.actionSize)
            for (task, steps) in kept.episodes.enumerated() {
                for (step, batch) in steps.enumerated() { archive.add(batch, task: task, step: step) }
            }
            try save(archive, tasks: kept.tasks, provenance: provenance(manifest, evaluated: evaluatedSpec),
                     extra: ["unit": "adaptation-step", "step_sizes": evaluation.stepSizes.map { "\($0)" }.joined(separator: ",")])
        } else {
            results = try sampler.evaluate(evaluation, parameters: parameters, taskCount: tasks, seed: seed, threads: threads)
        }
        if json {
            struct Report: Encodable {
                var steps: [AdaptationEvaluation.Step]
                var spec: String
                var iteration: Int
                var tasks: Int
                var episodes: Int
                var minimumSteps: Int
                var stepSize: Double
                var stepSizes: [Double]
                var halvesStepAfterFirst: Bool
                var randomInitialisation: Bool
                var provenance: Provenance
                enum CodingKeys: String, CodingKey {
                    case steps, spec, iteration, tasks, episodes, provenance
                    case minimumSteps = "min_steps"
                    case stepSize = "step_size"
                    case stepSizes = "step_sizes"
                    case halvesStepAfterFirst = "halves_step_after_first"
                    case randomInitialisation = "random_initialisation"
                }
            }
            let report = Report(steps: results, spec: evaluatedSpec, iteration: manifest.iteration, tasks: tasks,
                                episodes: sampler.episodesPerSample, minimumSteps: minSteps, stepSize: manifest.configuration.maml.innerStepSize,
                                stepSizes: evaluation.stepSizes, halvesStepAfterFirst: stepSizes == nil && halveStep, randomInitialisation: randomInit,
                                provenance: provenance(manifest, evaluated: evaluatedSpec))
            try printJSON(report)
        } else {
            let origin = randomInit ? "a random initialisation" : "iteration \(manifest.iteration)"
            let schedule = stepSizes.map { _ in "α = " + evaluation.stepSizes.map { "\($0)" }.joined(separator: ", ") }
                ?? "α = \(manifest.configuration.maml.innerStepSize)\(halveStep ? " then α/2" : "")"
            let batch = minSteps > 0 ? "\(sampler.episodesPerSample)-episode batches until \(minSteps) steps per step"
                : "\(sampler.episodesPerSample) episodes per step"
            let on = spec == nil ? manifest.specName : "\(evaluatedSpec) (trained on \(manifest.specName))"
            print("\(on): \(origin), \(tasks) held-out tasks, \(batch), \(schedule)")
            print("  steps   mean return   std. error")
            for step in results {
                print(String(format: "  %5d   %11.2f   %10.2f", step.step, step.meanReturn, step.standardError))
            }
        }
    }

    /// A memory-based learner's evaluation: the return of each episode of a trial.
    private func runTrials(_ loaded: Checkpoint) throws {
        let manifest = loaded.manifest
        let gradientFlags: [(String, Bool)] = [("--steps", steps != nil), ("--step-sizes", stepSizes != nil),
                                               ("--episodes", episodesOption != nil), ("--min-steps", minSteps != 0),
                                               ("--halve-step", halveStepFlag != nil)]
        if let (flag, _) = gradientFlags.first(where: \.1) {
            throw CommandFailure(description: "\(flag) is for gradient-based learners; \(manifest.configuration.algorithm) adapts within a trial (--trials sets the trials per task)")
        }
        guard let policy = manifest.recurrentPolicy else { preconditionFailure("load() checks the manifest has a policy") }
        let (evaluatedSpec, family) = try evaluatedFamily(manifest)
        _ = try loaded.trialLearner(path: checkpoint)
        var parameters = loaded.parameters
        if randomInit {
            var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
            parameters = policy.initialParameters(as: Float.self, using: &rng)
        }
        let trialsPerTask = trials ?? 10
        let sampler = TrialFamilySampler(family: family, policy: policy, trialsPerBatch: manifest.configuration.rl2.trialsPerBatch)
        let kept = sampler.evaluateKeepingTrials(parameters: parameters, taskCount: tasks, trialsPerTask: trialsPerTask, seed: seed,
                                                 threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let results = kept.steps
        if saveEpisodes != nil {
            var archive = EvaluatedEpisodes(observationSize: policy.observationSize, actionSize: policy.actionSize)
            for (i, trial) in kept.trials.enumerated() { archive.add(trial, task: i / trialsPerTask, trialIndex: i % trialsPerTask) }
            try save(archive, tasks: kept.tasks, provenance: provenance(manifest, evaluated: evaluatedSpec), extra: ["unit": "trial-episode"])
        }
        if json {
            struct Report: Encodable {
                var steps: [AdaptationEvaluation.Step]
                var unit = "trial-episode"
                var spec: String
                var iteration: Int
                var tasks: Int
                var trials: Int
                var seed: UInt64
                var randomInitialisation: Bool
                var provenance: Provenance
                enum CodingKeys: String, CodingKey {
                    case steps, unit, spec, iteration, tasks, trials, seed, provenance
                    case randomInitialisation = "random_initialisation"
                }
            }
            try printJSON(Report(steps: results, spec: evaluatedSpec, iteration: manifest.iteration, tasks: tasks,
                                 trials: trialsPerTask, seed: seed, randomInitialisation: randomInit,
                                 provenance: provenance(manifest, evaluated: evaluatedSpec)))
        } else {
            let origin = randomInit ? "a random initialisation" : "iteration \(manifest.iteration)"
            let on = spec == nil ? manifest.specName : "\(evaluatedSpec) (trained on \(manifest.specName))"
            print("\(on): \(manifest.configuration.algorithm), \(origin), \(tasks) held-out tasks, \(trialsPerTask) trials each")
            print("  episode of the trial   mean return   std. error   rewarded   tasks reached")
            for step in results {
                print(String(format: "  %20d   %11.2f   %10.2f   %7.0f%%   %12.0f%%", step.step + 1, step.meanReturn, step.standardError,
                             100 * (step.successRate ?? 0), 100 * (step.tasksReached ?? 0)))
            }
            let total = results.reduce(0) { $0 + $1.meanReturn }
            print("  " + String(repeating: " ", count: 15) + "trial" + String(format: "   %11.2f", total))
            print("  (rewarded: episodes with a positive reward, over tasks and trials; tasks reached: tasks on which at least")
            print("  half the trials' episodes were)")
        }
    }
}
