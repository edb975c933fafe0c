/// A distribution over tasks of one environment family: MetaRL's unit of meta-learning.
///
/// A task is a value holding its parameters (`Codable`, so runs can record the tasks they saw);
/// sampling is driven by an injected generator, so a seeded stream gives the same tasks every time.
public protocol TaskDistribution<Task>: Sendable {
    associatedtype Task: Sendable & Codable & Equatable
    /// `count` tasks drawn independently.
    func sampleTasks(count: Int, using rng: inout some RandomNumberGenerator) -> [Task]
}

/// A fixed list of tasks as a distribution: each draw picks one uniformly (with replacement).
/// Pre-sampled train and test sets (PEARL's 80/20 goal split) are distributions of this kind.
public struct FixedTaskList<Task: Sendable & Codable & Equatable>: TaskDistribution {
    public let tasks: [Task]

    public init(_ tasks: [Task]) {
        precondition(!tasks.isEmpty, "a fixed task list needs at least one task")
        self.tasks = tasks
    }

    public func sampleTasks(count: Int, using rng: inout some RandomNumberGenerator) -> [Task] {
        (0..<count).map { _ in tasks[Int.random(in: 0..<tasks.count, using: &rng)] }
    }
}
