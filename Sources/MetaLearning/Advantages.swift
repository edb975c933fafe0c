/// Discounted returns and generalised advantage estimation over the episodes of a batch.
///
/// Each episode is treated on its own; the value after an episode's last step is taken as 0
/// whether it terminated or was truncated by the horizon, as pytorch-maml-rl (and the MAML results
/// we reproduce) do.
extension EpisodeBatch {
    /// R_t = Σ_{k ≥ t} γ^{k−t} r_k within each episode, one per step.
    public func discountedReturns(discount gamma: Double) -> [Double] {
        var returns = [Double](repeating: 0, count: stepCount)
        for (start, length) in zip(episodeStarts, lengths) {
            var running = 0.0
            for t in stride(from: start + length - 1, through: start, by: -1) {
                running = Double(rewards[t]) + gamma * running
                returns[t] = running
            }
        }
        return returns
    }

    /// GAE(γ, λ) (Schulman et al. 2016): Â_t = Σ_k (γλ)^k δ_{t+k}, δ_t = r_t + γV(s_{t+1}) − V(s_t).
    /// - Parameter values: V(s_t) for every step.
    public func advantages(values: [Double], discount gamma: Double, lambda: Double) -> [Double] {
        precondition(values.count == stepCount, "\(values.count) values for \(stepCount) steps")
        var advantages = [Double](repeating: 0, count: stepCount)
        for (start, length) in zip(episodeStarts, lengths) {
            var running = 0.0
            var nextValue = 0.0
            for t in stride(from: start + length - 1, through: start, by: -1) {
                let delta = Double(rewards[t]) + gamma * nextValue - values[t]
                running = delta + gamma * lambda * running
                advantages[t] = running
                nextValue = values[t]
            }
        }
        return advantages
    }

    /// Advantages centred and scaled per task: the mean and the root-mean-square deviation (plus
    /// 10⁻⁸) are the batch's averages under `weighting`, so that with `.episode` every episode
    /// counts equally whatever its length (pytorch-maml-rl) and with `.step` every step does (rllab).
    public func normalized(_ advantages: [Double], weighting: StepWeighting) -> [Double] {
        precondition(advantages.count == stepCount, "\(advantages.count) advantages for \(stepCount) steps")
        let weights = stepWeights(weighting)
        func average(_ values: [Double]) -> Double {
            zip(weights, values).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let mean = average(advantages)
        let centred = advantages.map { $0 - mean }
        let scale = average(centred.map { $0 * $0 }).squareRoot() + 1e-8
        return centred.map { $0 / scale }
    }
}
