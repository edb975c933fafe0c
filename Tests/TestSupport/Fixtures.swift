import Autodiff
import Environments

/// How a test input is drawn. Inputs of piecewise functions are kept away from their kinks, where
/// a finite difference straddles two pieces and means nothing.
public enum InputDistribution: Sendable {
    /// Uniform in lower...upper.
    case uniform([Int], Double, Double)
    /// Uniform in lower...upper but at least `gap` from every point in `kinks`.
    case avoiding([Int], Double, Double, kinks: [Double], gap: Double)
    /// Distinct values at least 0.1 apart in random order (for max: no near-ties).
    case distinct([Int])

    public var shape: [Int] {
        switch self {
        case .uniform(let s, _, _), .avoiding(let s, _, _, _, _), .distinct(let s): return s
        }
    }

    public func sample(using rng: inout SplitMix64) -> Tensor<Double> {
        let count = shape.reduce(1, *)
        switch self {
        case .uniform(let shape, let lower, let upper):
            return Tensor.uniform(shape, in: lower...upper, using: &rng)
        case .avoiding(let shape, let lower, let upper, let kinks, let gap):
            var values: [Double] = []
            while values.count < count {
                let x = Double.random(in: lower...upper, using: &rng)
                if kinks.allSatisfy({ abs(x - $0) >= gap }) { values.append(x) }
            }
            return Tensor(shape: shape, scalars: values)
        case .distinct(let shape):
            let values = (0..<count).map { Double($0) * 0.1 - Double(count) * 0.05 }.shuffled(using: &rng)
            return Tensor(shape: shape, scalars: values)
        }
    }
}

/// A seeded generator for a test, named so failures can be reproduced.
public func testGenerator(_ index: Int = 0) -> SplitMix64 {
    RandomStream.derive(seed: 20_170_000, purpose: .testFixture, index: index)
}
