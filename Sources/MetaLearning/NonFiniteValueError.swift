/// Training produced a NaN or an infinity: what went non-finite, and at which meta-iteration.
///
/// Thrown instead of carrying on, because every later step would hide it (the line search rejects
/// NaN trials one by one, the baseline's fit fails several regularisations later), and a run that
/// stops at the first non-finite value still has the checkpoint of the iteration before it.
public struct NonFiniteValueError: Error, Equatable, CustomStringConvertible {
    /// What was non-finite, as a phrase: "the meta-gradient", "the rewards of task 3".
    public var quantity: String
    /// The meta-iteration (counted from 1) that produced it, once the trainer knows it.
    public var iteration: Int?

    public init(_ quantity: String, iteration: Int? = nil) {
        self.quantity = quantity
        self.iteration = iteration
    }

    public var description: String {
        let at = iteration.map { "at iteration \($0)" } ?? "in training"
        return "\(quantity) went non-finite (NaN or infinity) \(at); training stopped"
    }

    /// Throws when any of `values` is NaN or infinite.
    @inlinable
    public static func check<C: Collection>(_ values: C, _ quantity: @autoclosure () -> String) throws
    where C.Element: BinaryFloatingPoint {
        for value in values where !value.isFinite { throw NonFiniteValueError(quantity()) }
    }
}

extension EpisodeBatch {
    /// Throws when a reward or an observation of these episodes is NaN or infinite (an environment
    /// driven somewhere it cannot represent), before any fit or gradient is taken on them.
    public func checkFinite() throws {
        try NonFiniteValueError.check(rewards, "the rewards of the sampled episodes")
        try NonFiniteValueError.check(observations, "the observations of the sampled episodes")
    }
}
