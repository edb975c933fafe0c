import Foundation
import MetaLearning

/// `eval.csv`: the held-out evaluations a run makes while it trains (`--eval-every N`), one row
/// per evaluation and adaptation step — in long form, so that a gradient-based learner's steps
/// 0…k and a memory-based learner's episodes of a trial read alike (`step` counts from 0 in
/// both, as in `metarl eval --json`).
///
/// Each evaluation is `metarl eval`'s protocol with the run's own adaptation: `evalTasks`
/// held-out tasks (the same ones every time, drawn from the run's seed apart from its training
/// tasks), `fast-batch-size` episodes per step and the run's inner steps and step-size rule; for
/// RL², `trialsPerTask` trials per task. Its random streams are its own, so evaluating changes
/// none of the training's numbers.
public enum HeldOutEvaluation {
    public static let fileName = "eval.csv"
    public static let columns = ["iteration", "environment_steps", "step", "mean_return", "stderr", "success_rate",
                                 "time/evaluation", "time/wall"]
    /// Trials per task when the learner adapts in memory (as `metarl eval`'s default).
    public static let trialsPerTask = 10

    /// The row of one step of an evaluation made after `iteration` iterations.
    static func row(_ step: AdaptationEvaluation.Step, iteration: Int, environmentSteps: Int, seconds: Double,
                    wallTime: Double) -> [String: String] {
        var values = ["iteration": "\(iteration)", "environment_steps": "\(environmentSteps)", "step": "\(step.step)",
                      "mean_return": "\(step.meanReturn)", "stderr": "\(step.standardError)",
                      "time/evaluation": "\(seconds)", "time/wall": String(format: "%.3f", wallTime)]
        if let rate = step.successRate { values["success_rate"] = "\(rate)" }
        return values
    }
}

extension MetaTrainer {
    /// The held-out evaluation of the current parameters (see `HeldOutEvaluation`).
    public func evaluateHeldOut(taskCount: Int) throws -> [AdaptationEvaluation.Step] {
        switch engine {
        case .gradient(let learner, let sampler):
            let evaluation = AdaptationEvaluation(learner: learner, steps: configuration.maml.innerSteps,
                                                  halvesStepAfterFirst: configuration.maml.halvesStepAfterFirst)
            return try sampler.evaluate(evaluation, parameters: parameters, taskCount: taskCount, seed: configuration.seed,
                                        threads: configuration.threads)
        case .memory(_, let sampler):
            return sampler.evaluate(parameters: parameters, taskCount: taskCount, trialsPerTask: HeldOutEvaluation.trialsPerTask,
                                    seed: configuration.seed, threads: configuration.threads)
        }
    }
}
