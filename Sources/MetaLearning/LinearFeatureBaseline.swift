/// Why a baseline could not be fitted.
public enum BaselineError: Error, Equatable, CustomStringConvertible {
    /// XᵀX + λI stayed singular (or the solution non-finite) up to the largest regularisation tried.
    case singularNormalEquations(largestRegularisation: Double)

    public var description: String {
        switch self {
        case .singularNormalEquations(let lambda):
            "the linear baseline's normal equations stayed singular up to regularisation \(lambda); the episodes may hold non-finite observations or rewards"
        }
    }
}

/// The linear feature baseline of rllab (Duan et al. 2016, supplementary §2), used by MAML, ProMP
/// and garage: V(s_t) = wᵀφ(s_t, t), refitted to each task's discounted returns.
///
/// φ = [clip(o, −10, 10), clip(o, −10, 10)², t/100, (t/100)², (t/100)³, 1], with t counted from 0
/// within each episode. The weights solve the ridge problem (XᵀX + λI) w = Xᵀy with λ = 10⁻⁵; if
/// the solution is not finite, λ is multiplied by 10 and the solve retried, up to 5 times.
public struct LinearFeatureBaseline: Sendable, Equatable {
    public let observationSize: Int
    /// λ of the first attempt.
    public let regularisation: Double
    /// The fitted weights (zeros before `fit`).
    public private(set) var weights: [Double]

    public init(observationSize: Int, regularisation: Double = 1e-5) {
        self.observationSize = observationSize
        self.regularisation = regularisation
        weights = [Double](repeating: 0, count: 2 * observationSize + 4)
    }

    public var featureCount: Int { 2 * observationSize + 4 }

    /// φ for every step of `batch`, row-major `stepCount × featureCount`.
    public func features(of batch: EpisodeBatch) -> [Double] {
        precondition(batch.observationSize == observationSize,
                     "a baseline for observations of size \(observationSize) got \(batch.observationSize)")
        let n = featureCount, d = observationSize
        // Written in place rather than appended from small arrays (three allocations per step):
        // the sampler fits and predicts on every batch it draws.
        return [Double](unsafeUninitializedCapacity: batch.stepCount * n) { phi, initialized in
            var row = 0
            for length in batch.lengths {
                for t in 0..<length {
                    let start = row * n
                    for j in 0..<d {
                        let o = Swift.min(Swift.max(Double(batch.observations[row * d + j]), -10), 10)
                        phi[start + j] = o
                        phi[start + d + j] = o * o
                    }
                    let time = Double(t) / 100
                    phi[start + 2 * d] = time
                    phi[start + 2 * d + 1] = time * time
                    phi[start + 2 * d + 2] = time * time * time
                    phi[start + 2 * d + 3] = 1
                    row += 1
                }
            }
            precondition(row == batch.stepCount, "episode lengths sum to \(row), the batch holds \(batch.stepCount) steps")
            initialized = batch.stepCount * n
        }
    }

    /// Fits the weights to `targets` (one per step, usually the discounted returns).
    /// - Throws: `BaselineError.singularNormalEquations` after five failed regularisations.
    public mutating func fit(_ batch: EpisodeBatch, targets: [Double]) throws {
        precondition(targets.count == batch.stepCount, "\(targets.count) targets for \(batch.stepCount) steps")
        let phi = features(of: batch)
        let n = featureCount
        var gram = [Double](repeating: 0, count: n * n)   // XᵀX
        var moment = [Double](repeating: 0, count: n)     // Xᵀy
        for row in 0..<batch.stepCount {
            let x = phi[(row * n)..<((row + 1) * n)]
            for i in 0..<n {
                let xi = x[x.startIndex + i]
                moment[i] += xi * targets[row]
                for j in 0..<n { gram[i * n + j] += xi * x[x.startIndex + j] }
            }
        }
        var lambda = regularisation
        for _ in 0..<5 {
            var system = gram
            for i in 0..<n { system[i * n + i] += lambda }
            if let solution = Self.choleskySolve(system, moment, size: n), solution.allSatisfy(\.isFinite) {
                weights = solution
                return
            }
            lambda *= 10
        }
        throw BaselineError.singularNormalEquations(largestRegularisation: lambda / 10)
    }

    /// V(s_t) for every step of `batch`.
    public func predict(_ batch: EpisodeBatch) -> [Double] {
        let phi = features(of: batch)
        let n = featureCount
        return (0..<batch.stepCount).map { row in
            (0..<n).reduce(0.0) { $0 + phi[row * n + $1] * weights[$1] }
        }
    }

    /// Solves A x = b for a symmetric positive-definite A (row-major n×n) by Cholesky
    /// factorisation A = LLᵀ; `nil` when A is not positive definite.
    static func choleskySolve(_ a: [Double], _ b: [Double], size n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard sum > 0, sum.isFinite else { return nil }
                    l[i * n + i] = sum.squareRoot()
                } else {
                    l[i * n + j] = sum / l[j * n + j]
                }
            }
        }
        var y = [Double](repeating: 0, count: n)      // L y = b
        for i in 0..<n {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * n + k] * y[k] }
            y[i] = sum / l[i * n + i]
        }
        var x = [Double](repeating: 0, count: n)      // Lᵀ x = y
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = y[i]
            for k in (i + 1)..<n { sum -= l[k * n + i] * x[k] }
            x[i] = sum / l[i * n + i]
        }
        return x
    }
}
