/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast generator with a 64-bit state that can be
/// seeded from any integer. MetaRL never uses a global generator; every consumer gets its own
/// stream from ``RandomStream/derive(seed:purpose:index:)``.
public struct SplitMix64: RandomNumberGenerator, Sendable, Codable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What a random stream is for. Streams for different purposes, or different indices of one
/// purpose, are statistically independent, so a run is a pure function of its seed whatever order
/// or thread the consumers run in.
public enum RandomPurpose: UInt64, Sendable, CaseIterable {
    case parameterInitialisation = 1
    case trainingTasks = 2
    case evaluationTasks = 3
    case environment = 4
    case policySampling = 5
    case testFixture = 6
    /// The episodes of held-out evaluation (`metarl eval`, `watch`, `render`), apart from
    /// training's `policySampling`: with one seed for both, evaluation task i would otherwise
    /// replay the environment seeds and action noise of training's task i of iteration 0.
    case evaluationSampling = 7
    /// The order in which RL²'s PPO epochs visit the trials of a meta-batch.
    case minibatchShuffling = 8
}

public enum RandomStream {
    /// The generator for (`seed`, `purpose`, `index`): the three are mixed through SplitMix64's
    /// finaliser, so neighbouring seeds or indices give unrelated streams.
    public static func derive(seed: UInt64, purpose: RandomPurpose, index: Int = 0) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed)
        var key = mixer.next() ^ (purpose.rawValue &* 0xD1B5_4A32_D192_ED03)
        mixer = SplitMix64(seed: key)
        key = mixer.next() ^ (UInt64(bitPattern: Int64(index)) &* 0x8CB9_2BA7_2F3D_8DD7)
        mixer = SplitMix64(seed: key)
        return SplitMix64(seed: mixer.next())
    }
}
