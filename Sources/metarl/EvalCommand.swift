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

    func run() throws {
        let loaded = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint), iteration: iteration)
        guard let policy = loaded.manifest.policy else { return try runTrials(loaded) }
        if trials != nil {
            throw CommandFailure(description: "--trials is for memory-based learners; \(loaded.manifest.configuration.algorithm) adapts by gradient steps (--steps, --episodes)")
        }
        let manifest = loaded.manifest
        var learner = try loaded.learner(path: checkpoint)
        var parameters = loaded.parameters
        if randomInit {
            learner = manifest.configuration.makeLearner(policy: policy)
            var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
            parameters = policy.initialParameters(as: Float.self, using: &rng)
        }
        let sampler = FamilySampler(family: manifest.family, policy: policy, episodes: episodes)
        var evaluation = try explicitStepSizes().map { AdaptationEvaluation(learner: learner, stepSizes: $0) }
            ?? AdaptationEvaluation(learner: learner, steps: steps ?? 3, halvesStepAfterFirst: halveStep)
        evaluation.minimumSteps = minSteps
        let results = try sampler.evaluate(evaluation, parameters: parameters, taskCount: tasks, seed: seed,
                                           threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
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
                enum CodingKeys: String, CodingKey {
                    case steps, spec, iteration, tasks, episodes
                    case minimumSteps = "min_steps"
                    case stepSize = "step_size"
                    case stepSizes = "step_sizes"
                    case halvesStepAfterFirst = "halves_step_after_first"
                    case randomInitialisation = "random_initialisation"
                }
            }
            let report = Report(steps: results, spec: manifest.specName, iteration: manifest.iteration, tasks: tasks,
                                episodes: sampler.episodesPerSample, minimumSteps: minSteps, stepSize: manifest.configuration.maml.innerStepSize,
                                stepSizes: evaluation.stepSizes, halvesStepAfterFirst: stepSizes == nil && halveStep, randomInitialisation: randomInit)
            try printJSON(report)
        } else {
            let origin = randomInit ? "a random initialisation" : "iteration \(manifest.iteration)"
            let schedule = stepSizes.map { _ in "α = " + evaluation.stepSizes.map { "\($0)" }.joined(separator: ", ") }
                ?? "α = \(manifest.configuration.maml.innerStepSize)\(halveStep ? " then α/2" : "")"
            let batch = minSteps > 0 ? "\(sampler.episodesPerSample)-episode batches until \(minSteps) steps per step"
                : "\(sampler.episodesPerSample) episodes per step"
            print("\(manifest.specName): \(origin), \(tasks) held-out tasks, \(batch), \(schedule)")
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
        _ = try loaded.trialLearner(path: checkpoint)
        var parameters = loaded.parameters
        if randomInit {
            var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
            parameters = policy.initialParameters(as: Float.self, using: &rng)
        }
        let trialsPerTask = trials ?? 10
        let sampler = TrialFamilySampler(family: manifest.family, policy: policy, trialsPerBatch: manifest.configuration.rl2.trialsPerBatch)
        let results = sampler.evaluate(parameters: parameters, taskCount: tasks, trialsPerTask: trialsPerTask, seed: seed,
                                       threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
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
                enum CodingKeys: String, CodingKey {
                    case steps, unit, spec, iteration, tasks, trials, seed
                    case randomInitialisation = "random_initialisation"
                }
            }
            try printJSON(Report(steps: results, spec: manifest.specName, iteration: manifest.iteration, tasks: tasks,
                                 trials: trialsPerTask, seed: seed, randomInitialisation: randomInit))
        } else {
            let origin = randomInit ? "a random initialisation" : "iteration \(manifest.iteration)"
            print("\(manifest.specName): \(manifest.configuration.algorithm), \(origin), \(tasks) held-out tasks, \(trialsPerTask) trials each")
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
