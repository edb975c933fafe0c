import ArgumentParser
import Foundation
import MetaLearning

struct BenchEstimatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimators",
        abstract: "Measure the bias of each meta-gradient estimator against the exact meta-gradient of a tabular MDP.",
        discussion: """
            A finite-horizon MDP (one-hot states, a tabular softmax policy) has an exactly \
            computable expected return J(θ) and meta-objective J(θ + α∇J(θ)), so its meta-gradient is \
            known. Each estimator's sampled meta-gradient (I + αĤ)ĝ' is averaged over --batches \
            independent batches of --episodes pre- and post-update episodes, and compared with it:

              reinforce   pytorch-maml-rl's MAML: the Hessian of Σ log π·R on fixed episodes (biased)
              lvc         ProMP's low-variance curvature (biased, low variance)
              dice        DiCE's magic box over cumulative log-probabilities (unbiased)
              trajectory  MAML with the whole sampling-distribution term, per episode (unbiased)

            bias is ‖mean − exact‖, relative to ‖exact‖; max |z| the largest component's bias in \
            standard errors (an unbiased estimator stays within a few; a biased one grows as √N); \
            stderr the mean standard error of a component, which falls as 1/√N.

            Example:
              metarl bench estimators --batches 20000 --json
            """
    )

    @Option(parsing: .unconditional, help: "Independent batches averaged (default 4000).")
    var batches = 4000
    @Option(parsing: .unconditional, help: "Episodes per pre- and post-update batch (default 10).")
    var episodes = 10
    @Option(parsing: .unconditional, help: "α, the inner step size (default 1).")
    var stepSize = 1.0
    @Option(help: "chain (a delayed-reward chain, where LVC's dropped terms are large; default) or random (random transitions and rewards).")
    var mdp = "chain"
    @Option(parsing: .unconditional, help: "States of the MDP (default 3).")
    var states = 3
    @Option(parsing: .unconditional, help: "Actions of a random MDP (default 2; a chain has 2).")
    var actions = 2
    @Option(parsing: .unconditional, help: "Horizon (default 4).")
    var horizon = 4
    @Option(parsing: .unconditional, help: "Seed of the MDP, the point θ and the sampling (default 1).")
    var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Threads (default: all cores). Results do not depend on it.")
    var threads: Int?
    @Flag(help: "Print one JSON object per estimator.")
    var json = false

    func validate() throws {
        try require(batches, "--batches", in: 2...10_000_000)
        try require(episodes, "--episodes", in: 1...100_000)
        try require(states, "--states", in: 1...100)
        try require(actions, "--actions", in: 2...100)
        try require(horizon, "--horizon", in: 1...1000)
        if let threads { try require(threads, "--threads", in: 1...256) }
        guard mdp == "chain" || mdp == "random" else { throw ValidationError("--mdp must be chain or random, got \"\(mdp)\"") }
        guard stepSize.isFinite, stepSize >= 0, stepSize <= 1e6 else { throw ValidationError("--step-size must lie in [0, 10⁶], got \(stepSize)") }
    }

    func run() throws {
        let mdp = self.mdp == "chain" ? TabularMDP(chainOf: states, horizon: horizon)
            : TabularMDP(states: states, actions: actions, horizon: horizon, seed: seed)
        let theta = mdp.parameters(seed: seed)
        let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
        struct Row: Encodable {
            var estimator: String
            var unbiased: Bool
            var batches: Int
            var bias: Double
            var relativeBias: Double
            var largestZ: Double
            var standardError: Double
            enum CodingKeys: String, CodingKey {
                case estimator, unbiased, batches, bias
                case relativeBias = "relative_bias"
                case largestZ = "max_abs_z"
                case standardError = "stderr"
            }
        }
        if !json {
            print("tabular MDP (\(self.mdp)): \(states) states, \(mdp.actions) actions, horizon \(horizon), α = \(stepSize), \(batches) batches × \(episodes) episodes")
            print("  estimator    bias      relative   max |z|   stderr     expected")
        }
        for estimator in TabularMDP.Estimator.allCases {
            let r = mdp.measureBias(estimator, at: theta, stepSize: stepSize, episodes: episodes, batches: batches, seed: seed,
                                    threads: threads)
            let row = Row(estimator: estimator.rawValue, unbiased: estimator.isUnbiased, batches: batches, bias: r.biasNorm,
                          relativeBias: r.biasNorm / r.exactNorm, largestZ: r.largestZ, standardError: r.meanStandardError)
            if json {
                try printJSON(row)
            } else {
                print(String(format: "  %@  %.5f   %7.2f%%   %7.2f   %.5f    %@", estimator.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0), r.biasNorm,
                             100 * r.biasNorm / r.exactNorm, r.largestZ, r.meanStandardError,
                             estimator.isUnbiased ? "unbiased" : "biased"))
            }
        }
    }
}
