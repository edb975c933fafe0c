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

            Examples:
              metarl eval runs/nav
              metarl eval runs/nav/checkpoint.json --steps 3 --json
              metarl eval runs/nav --episodes 20 --no-halve-step   (pytorch-maml-rl)
              metarl eval runs/nav --random-init                  (random baseline)
            """
    )

    @Argument(help: "A run directory, or the path of its checkpoint.json or checkpoint.safetensors.")
    var checkpoint: String

    @Option(help: "Held-out tasks to evaluate on.")
    var tasks = 40

    @Option(help: "Adaptation steps after the unadapted rollout.")
    var steps = 3

    @Option(help: "Episodes per task and step (40 in the MAML paper's test protocol).")
    var episodes = 40

    @Flag(inversion: .prefixedNo, help: "α for the first step and α/2 after it, as the MAML paper's test protocol; --no-halve-step keeps α throughout.")
    var halveStep = true

    @Flag(help: "Evaluate a freshly initialised policy of the same shape instead (the random-initialisation baseline).")
    var randomInit = false

    @Option(help: "Seed of the held-out tasks and of sampling.")
    var seed: UInt64 = 1

    @Option(help: "Threads to spread the tasks over (default: all cores). Results do not depend on it.")
    var threads: Int?

    @Flag(help: "Print one JSON object: {\"steps\": [{\"step\", \"mean_return\", \"stderr\", …}], …}.")
    var json = false

    func validate() throws {
        guard tasks >= 1 else { throw ValidationError("--tasks must be at least 1, got \(tasks)") }
        guard steps >= 0 else { throw ValidationError("--steps must not be negative, got \(steps)") }
        guard episodes >= 1 else { throw ValidationError("--episodes must be at least 1, got \(episodes)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    func run() throws {
        let loaded = try Checkpoint.load(from: URL(fileURLWithPath: checkpoint))
        let manifest = loaded.manifest
        let maml = MAMLTRPO(policy: manifest.policy, hyperparameters: manifest.configuration.maml)
        var parameters = loaded.parameters
        if randomInit {
            var rng = RandomStream.derive(seed: seed, purpose: .parameterInitialisation, index: 1)
            parameters = manifest.policy.initialParameters(as: Float.self, using: &rng)
        }
        let sampler = FamilySampler(family: manifest.family, policy: manifest.policy, episodes: episodes)
        let evaluation = AdaptationEvaluation(maml: maml, steps: steps, halvesStepAfterFirst: halveStep)
        let results = try sampler.evaluate(evaluation, parameters: parameters, taskCount: tasks, seed: seed,
                                           threads: threads ?? ProcessInfo.processInfo.activeProcessorCount)
        if json {
            struct Report: Encodable {
                var steps: [AdaptationEvaluation.Step]
                var spec: String
                var iteration: Int
                var tasks: Int
                var episodes: Int
                var stepSize: Double
                var halvesStepAfterFirst: Bool
                var randomInitialisation: Bool
                enum CodingKeys: String, CodingKey {
                    case steps, spec, iteration, tasks, episodes
                    case stepSize = "step_size"
                    case halvesStepAfterFirst = "halves_step_after_first"
                    case randomInitialisation = "random_initialisation"
                }
            }
            let report = Report(steps: results, spec: manifest.specName, iteration: manifest.iteration, tasks: tasks,
                                episodes: sampler.episodesPerSample, stepSize: manifest.configuration.maml.innerStepSize,
                                halvesStepAfterFirst: halveStep, randomInitialisation: randomInit)
            try printJSON(report)
        } else {
            let origin = randomInit ? "a random initialisation" : "iteration \(manifest.iteration)"
            print("\(manifest.specName): \(origin), \(tasks) held-out tasks, \(sampler.episodesPerSample) episodes per step, α = \(manifest.configuration.maml.innerStepSize)\(halveStep ? " then α/2" : "")")
            print("  steps   mean return   std. error")
            for step in results {
                print(String(format: "  %5d   %11.2f   %10.2f", step.step, step.meanReturn, step.standardError))
            }
        }
    }
}
