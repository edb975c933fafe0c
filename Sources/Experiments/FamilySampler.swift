import Autodiff
import Environments
import MetaLearning

/// A task of any family.
public enum EnvironmentTask: Sendable, Equatable {
    case pointRobot(PointRobotTask)
    case gridworld(GridworldTask)
}

/// An environment family with its episode sampler, behind one face: training, evaluation and
/// recording are written once, generically, and this type picks the family's batch type.
public enum FamilySampler: Sendable {
    case pointRobot(PointRobotFamily, EpisodeSampler<PointRobotBatch>)
    case gridworld(GridworldFamily, EpisodeSampler<GridworldBatch>)

    /// A sampler of `episodes` episodes per call for `family`, acting with `policy`.
    public init(family: EnvironmentFamily, policy: Policy, episodes: Int) {
        switch family {
        case .pointRobot(let f):
            self = .pointRobot(f, EpisodeSampler(environment: PointRobotBatch(family: f, count: episodes), policy: policy))
        case .gridworld(let f):
            self = .gridworld(f, EpisodeSampler(environment: GridworldBatch(family: f, count: episodes), policy: policy))
        }
    }

    /// The policy a family calls for: Gaussian for box actions, categorical for discrete ones.
    public static func policy(for family: EnvironmentFamily, hidden: [Int], activation: MLP.Activation) -> Policy {
        switch family {
        case .pointRobot(let f):
            let batch = PointRobotBatch(family: f, count: 1)
            return .forActions(batch.actionSpace, observationSize: batch.observationSize, hidden: hidden, activation: activation)
        case .gridworld(let f):
            let batch = GridworldBatch(family: f, count: 1)
            return .forActions(batch.actionSpace, observationSize: batch.observationSize, hidden: hidden, activation: activation)
        }
    }

    public var episodesPerSample: Int {
        switch self {
        case .pointRobot(_, let s): s.episodesPerSample
        case .gridworld(_, let s): s.episodesPerSample
        }
    }

    /// The rollouts of one meta-iteration: `count` tasks drawn from the stream of
    /// (seed, training tasks, iteration), each sampled and adapted with its own stream.
    func collectMetaBatch(
        learner: any MetaLearner, parameters: [Tensor<Float>], seed: UInt64, iteration: Int, count: Int, threads: Int
    ) throws -> [TaskRollout<Float>] {
        func collect<E: VectorEnvironment, D: TaskDistribution>(_ family: D, _ sampler: EpisodeSampler<E>) throws
            -> [TaskRollout<Float>] where D.Task == E.Task {
            var taskStream = RandomStream.derive(seed: seed, purpose: .trainingTasks, index: iteration)
            let tasks = family.sampleTasks(count: count, using: &taskStream)
            return try Parallel.map(count, threads: threads) { index in
                var rng = RandomStream.derive(seed: seed, purpose: .policySampling, index: iteration * count + index)
                return try learner.collect(task: tasks[index], parameters: parameters, sampler: sampler, using: &rng).rollout
            }
        }
        switch self {
        case .pointRobot(let f, let s): return try collect(f, s)
        case .gridworld(let f, let s): return try collect(f, s)
        }
    }

    /// The evaluation protocol on the first `taskCount` held-out tasks of `seed`.
    public func evaluate(
        _ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskCount: Int, seed: UInt64, threads: Int
    ) throws -> [AdaptationEvaluation.Step] {
        switch self {
        case .pointRobot(let f, let s):
            return try evaluation.evaluate(parameters, tasks: AdaptationEvaluation.heldOutTasks(from: f, count: taskCount, seed: seed),
                                           sampler: s, seed: seed, threads: threads)
        case .gridworld(let f, let s):
            return try evaluation.evaluate(parameters, tasks: AdaptationEvaluation.heldOutTasks(from: f, count: taskCount, seed: seed),
                                           sampler: s, seed: seed, threads: threads)
        }
    }

    /// Held-out task `taskIndex` of `seed` and its episodes after 0…k adaptation steps, exactly as
    /// `evaluate` samples them.
    public func trace(
        _ evaluation: AdaptationEvaluation, parameters: [Tensor<Float>], taskIndex: Int, seed: UInt64
    ) throws -> (task: EnvironmentTask, episodes: [EpisodeBatch]) {
        switch self {
        case .pointRobot(let f, let s):
            let task = AdaptationEvaluation.heldOutTasks(from: f, count: taskIndex + 1, seed: seed)[taskIndex]
            return (.pointRobot(task), try evaluation.trace(parameters, task: task, taskIndex: taskIndex, sampler: s, seed: seed))
        case .gridworld(let f, let s):
            let task = AdaptationEvaluation.heldOutTasks(from: f, count: taskIndex + 1, seed: seed)[taskIndex]
            return (.gridworld(task), try evaluation.trace(parameters, task: task, taskIndex: taskIndex, sampler: s, seed: seed))
        }
    }
}

extension EnvironmentFamily: Codable {
    private enum Keys: String, CodingKey { case kind }

    /// The family's parameters with a `kind` beside them; a checkpoint without `kind` was written
    /// when point robots were the only family.
    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: Keys.self).decodeIfPresent(String.self, forKey: .kind) ?? "point-robot"
        switch kind {
        case "point-robot": self = .pointRobot(try PointRobotFamily(from: decoder))
        case "gridworld": self = .gridworld(try GridworldFamily(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [Keys.kind],
                                                    debugDescription: "unknown environment family \"\(kind)\""))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .pointRobot(let f): try f.encode(to: encoder)
        case .gridworld(let f): try f.encode(to: encoder)
        }
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(name, forKey: .kind)
    }
}
