import Environments
import Foundation
import MetaLearning

extension TrainingConfiguration {
    /// What a run of this configuration on `family` will hold in memory at its peak, in bytes: an
    /// estimate from the sizes, so that a run too large for the machine is refused before it
    /// starts instead of aborting in an allocation minutes later.
    ///
    /// A meta-update keeps, for every task of the meta-batch, the episodes of each inner step and
    /// of the validation batch (observations, actions and a few per-step values), the network's
    /// activations on all of them for the curvature products, and one meta-gradient; besides
    /// those, a few parameter-sized vectors (θ, the conjugate-gradient vectors, the line search's
    /// candidate), and what the process holds before any of it (code, BLAS and allocator
    /// buffers). Observations count three times: as sampled, as the baseline's features and as the
    /// network's input. `metarl bench train --json` prints the estimate beside the measured peak
    /// (`estimated_memory_mb`, `peak_rss_mb`).
    ///
    /// RL² keeps each trial's GRU inputs and per-step values, and during a minibatch's gradient
    /// the GRU's gates and states of its trials (`trialsPerBatch` at a time per thread).
    public func estimatedMemory(for family: AnyEnvironmentFamily) -> (bytes: Double, parameters: Double, episodes: Double) {
        let horizon = FamilySampler.horizon(of: family)
        if adaptsInMemory {
            let policy = TrialFamilySampler.policy(for: family, hiddenSize: rl2.hiddenSize, cellKind: rl2.cell)
            let parameterCount = policy.parameterShapes.reduce(0.0) { $0 + Double($1.reduce(1, *)) }
            let parameterBytes = parameterCount * 4 * Double(8 + threads * 2)
            let trialBytes = Double(metaBatchSize) * Double(horizon) * Double(policy.featureSize + policy.actionSize + 6) * 4
            let gradientBytes = Double(threads * rl2.trialsPerBatch * horizon) * Double(12 * rl2.hiddenSize + 2 * policy.featureSize) * 4
            return (Self.processBaseBytes + parameterBytes + trialBytes + gradientBytes, parameterBytes, trialBytes + gradientBytes)
        }
        let policy = FamilySampler.policy(for: family, hidden: hidden, activation: activation)
        let floatBytes = 4.0
        let parameterCount = policy.parameterShapes.reduce(0.0) { $0 + Double($1.reduce(1, *)) }
        let parameterBytes = parameterCount * floatBytes * Double(metaBatchSize + 8)
        let rowsPerTask = Double(makeLearner(policy: policy).trainingInnerSteps + 1) * Double(fastBatchSize) * Double(horizon)
        let perRow = Double(3 * policy.observationSize + policy.actionSize + 8 + hidden.reduce(0, +))
        let episodeBytes = Double(metaBatchSize) * rowsPerTask * perRow * floatBytes
        return (Self.processBaseBytes + parameterBytes + episodeBytes, parameterBytes, episodeBytes)
    }

    /// Refuses a configuration whose estimated peak memory exceeds this machine's physical
    /// memory, naming the settings that make it large.
    /// - Throws: `RunError.invalidConfiguration`.
    /// About the least resident memory a `metarl bench train` was seen to peak at (64 MB on the
    /// smallest preset): the code, BLAS's and the allocator's buffers.
    static let processBaseBytes = 60e6

    public func checkMemory(for family: AnyEnvironmentFamily,
                            available: Double = Double(ProcessInfo.processInfo.physicalMemory)) throws {
        let need = estimatedMemory(for: family)
        guard need.bytes > available else { return }
        let key = need.parameters > need.episodes ? (adaptsInMemory ? "rl2-hidden" : "hidden") : "meta-batch-size"
        let cause = adaptsInMemory
            ? "\(metaBatchSize) trials of the spec's horizon with a GRU of \(rl2.hiddenSize)"
            : need.parameters > need.episodes
            ? "a policy of hidden widths \(hidden.map(String.init).joined(separator: ",")) kept for \(metaBatchSize) tasks"
            : "\(metaBatchSize) tasks × \(fastBatchSize) episodes × \(makeLearner(policy: FamilySampler.policy(for: family, hidden: hidden, activation: activation)).trainingInnerSteps + 1) batches of the spec's horizon"
        throw RunError.invalidConfiguration(key: key, reason: String(
            format: "the run would need about %.1f GB of memory (%@), more than this machine's %.1f GB",
            need.bytes / 1e9, cause, available / 1e9))
    }
}
