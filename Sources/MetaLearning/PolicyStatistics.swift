import Autodiff
import RealModule

/// What a run logs about its policy beside the learner's own figures, the same for every
/// gradient-based learner: how random the policy that sampled the iteration was, and how far the
/// meta-update moved it.
///
/// - `policy/entropy`: the mean entropy (nats) of π_θ over the steps of the pre-update episodes.
/// - `policy/std`: for a Gaussian head, the mean σ over action dimensions (the head's σ does not
///   depend on the state).
/// - `kl/before`: the mean KL(π_θ ‖ π_θ′) between the pre-update policies before and after the
///   meta-update, over the same steps (TRPO's constraint, `kl/after`, is on the adapted ones).
public enum PolicyStatistics {
    /// The columns for `policy`.
    public static func columns(for policy: Policy) -> [String] {
        policy.kind == GaussianHead.kind ? ["policy/entropy", "policy/std", "kl/before"] : ["policy/entropy", "kl/before"]
    }

    /// The columns of a memory-based learner's run: the entropy along its trials.
    public static let trialColumns = ["policy/entropy"]

    /// The figures of `columns(for:)` on `batches` (each task's pre-update episodes), the tasks
    /// spread over `threads` and summed in task order.
    /// `batches` are this process's tasks; every process gets the figures of all of them.
    public static func metrics(policy: Policy, before: [Tensor<Float>], after: [Tensor<Float>], batches: [EpisodeBatch],
                               threads: Int, group: any TaskGroup = SingleProcess()) -> [Metric] {
        let local = Parallel.map(batches.count, threads: threads) { i -> (entropy: Double, kl: Double, rows: Int) in
            let batch = batches[i]
            let rows = batch.stepCount
            guard rows > 0 else { return (0, 0, 0) }
            let observations = Tensor(shape: [rows, batch.observationSize], scalars: batch.observations)
            let old = policy.distribution(observations, parameters: before)
            let new = policy.distribution(observations, parameters: after)
            let kl = old.klDivergence(to: new).scalars.reduce(0.0) { $0 + Double($1) }
            return (old.entropies.reduce(0.0) { $0 + Double($1) }, kl, rows)
        }
        let sums = group.size == 1 ? local
            : group.gatherRows(local.flatMap { [$0.entropy, $0.kl, Double($0.rows)] }, width: 3).map { (entropy: $0[0], kl: $0[1], rows: Int($0[2])) }
        let rows = Double(Swift.max(sums.reduce(0) { $0 + $1.rows }, 1))
        var metrics = [Metric("policy/entropy", sums.reduce(0.0) { $0 + $1.entropy } / rows)]
        if policy.kind == GaussianHead.kind {
            // The head's one parameter, after the network's: log σ per action dimension.
            let logStd = before[policy.networkParameterCount].scalars
            metrics.append(Metric("policy/std", logStd.reduce(0.0) { $0 + Double.exp(Double($1)) } / Double(logStd.count)))
        }
        metrics.append(Metric("kl/before", sums.reduce(0.0) { $0 + $1.kl } / rows))
        return metrics
    }

    /// The figures of `trialColumns` over every step of `trials`.
    public static func metrics(trials: [Trial]) -> [Metric] {
        let steps = trials.reduce(0) { $0 + $1.length }
        let total = trials.reduce(0.0) { sum, trial in trial.entropies.reduce(sum) { $0 + Double($1) } }
        return [Metric("policy/entropy", total / Double(Swift.max(steps, 1)))]
    }
}

extension ActionDistribution {
    /// The entropy of each row's distribution (nats): −Σ p log p for a categorical one,
    /// Σ log σ + ½d(1 + log 2π) for a diagonal Gaussian.
    public var entropies: [Scalar] {
        switch self {
        case .gaussian(let mean, let logStd):
            let d = logStd.count
            let perRow = logStd.scalars.reduce(Scalar(0), +) + Scalar(d) * Scalar(0.5) * (1 + Scalar.log(2 * Scalar.pi))
            return [Scalar](repeating: perRow, count: mean.shape[0])
        case .categorical(let logProbabilities):
            let n = logProbabilities.shape[1], values = logProbabilities.scalars
            return (0..<logProbabilities.shape[0]).map { row in
                var total: Scalar = 0
                for logp in values[(row * n)..<((row + 1) * n)] where logp > -Scalar.infinity { total -= Scalar.exp(logp) * logp }
                return total
            }
        }
    }
}
