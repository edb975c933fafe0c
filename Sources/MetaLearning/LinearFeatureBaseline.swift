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

    /// φ for every step of `batch`, row-major `stepCount × featureCount` (what `fit` and
    /// `predict` compute with, written out: they never build it).
    public func features(of batch: EpisodeBatch) -> [Double] {
        precondition(batch.observationSize == observationSize,
                     "a baseline for observations of size \(observationSize) got \(batch.observationSize)")
        let n = featureCount, o = 2 * observationSize
        let observed = distinctObservationFeatures(of: batch)
        var phi = [Double](repeating: 0, count: batch.stepCount * n)
        var row = 0
        for length in batch.lengths {
            for t in 0..<length {
                let k = Int(batch.observationRows[row])
                for j in 0..<o { phi[row * n + j] = observed[k * o + j] }
                let time = Self.timeFeatures(t)
                for a in 0..<4 { phi[row * n + o + a] = time[a] }
                row += 1
            }
        }
        precondition(row == batch.stepCount, "episode lengths sum to \(row), the batch holds \(batch.stepCount) steps")
        return phi
    }

    /// [t/100, (t/100)², (t/100)³, 1].
    @inline(__always)
    private static func timeFeatures(_ t: Int) -> SIMD4<Double> {
        let time = Double(t) / 100
        return SIMD4(time, time * time, time * time * time, 1)
    }

    /// [clip(o, −10, 10), clip(o, −10, 10)²] of each distinct observation of the batch,
    /// `distinctObservationCount × 2·observationSize`.
    private func distinctObservationFeatures(of batch: EpisodeBatch) -> [Double] {
        let d = observationSize
        var features = [Double](repeating: 0, count: batch.distinctObservationCount * 2 * d)
        batch.observationTable.values.withUnsafeBufferPointer { observations in
            for k in 0..<batch.distinctObservationCount {
                for j in 0..<d {
                    let o = Swift.min(Swift.max(Double(observations[k * d + j]), -10), 10)
                    features[2 * d * k + j] = o
                    features[2 * d * k + d + j] = o * o
                }
            }
        }
        return features
    }

    /// Fits the weights to `targets` (one per step, usually the discounted returns).
    ///
    /// φ splits into observation features u(o) and time features v(t), so XᵀX has the blocks
    /// Σ u uᵀ, Σ u vᵀ and Σ v vᵀ. The first two are sums over the batch's distinct observations
    /// (`EpisodeBatch.distinctObservations`): Σ_k c_k u_k u_kᵀ and Σ_k u_k (Σ_{t: o_t = o_k} v(t))ᵀ, and likewise for
    /// Xᵀy — the same normal equations with far fewer terms when observations repeat, as they
    /// do in gridworlds (a door-key batch of 12,800 steps has a few hundred).
    /// - Throws: `BaselineError.singularNormalEquations` after five failed regularisations.
    public mutating func fit(_ batch: EpisodeBatch, targets: [Double]) throws {
        precondition(batch.observationSize == observationSize,
                     "a baseline for observations of size \(observationSize) got \(batch.observationSize)")
        precondition(targets.count == batch.stepCount, "\(targets.count) targets for \(batch.stepCount) steps")
        let n = featureCount, o = 2 * observationSize
        let u = batch.distinctObservationCount
        let observed = distinctObservationFeatures(of: batch)
        var counts = [Double](repeating: 0, count: u)
        var timeSums = [Double](repeating: 0, count: u * 4)   // Σ v(t) per distinct observation
        var targetSums = [Double](repeating: 0, count: u)     // Σ y per distinct observation
        var gram = [Double](repeating: 0, count: n * n)       // XᵀX
        var moment = [Double](repeating: 0, count: n)         // Xᵀy
        var row = 0
        for length in batch.lengths {
            for t in 0..<length {
                let v = Self.timeFeatures(t), y = targets[row], k = Int(batch.observationRows[row])
                counts[k] += 1
                targetSums[k] += y
                for a in 0..<4 {
                    timeSums[k * 4 + a] += v[a]
                    moment[o + a] += v[a] * y
                    for b in 0..<4 { gram[(o + a) * n + o + b] += v[a] * v[b] }
                }
                row += 1
            }
        }
        precondition(row == batch.stepCount, "episode lengths sum to \(row), the batch holds \(batch.stepCount) steps")
        let weighted = (0..<(u * o)).map { observed[$0] * counts[$0 / o] }
        observed.withUnsafeBufferPointer { observed in
            gram.withUnsafeMutableBufferPointer { gram in
                let g = gram.baseAddress!
                weighted.withUnsafeBufferPointer { weighted in
                    Double.gemm(transposeA: true, transposeB: false, m: o, n: o, k: u, a: observed.baseAddress!, lda: o,
                                b: weighted.baseAddress!, ldb: o, beta: 0, c: g, ldc: n)
                }
                timeSums.withUnsafeBufferPointer { timeSums in
                    Double.gemm(transposeA: true, transposeB: false, m: o, n: 4, k: u, a: observed.baseAddress!, lda: o,
                                b: timeSums.baseAddress!, ldb: 4, beta: 0, c: g + o, ldc: n)
                }
                for i in 0..<o {
                    for a in 0..<4 { g[(o + a) * n + i] = g[i * n + o + a] }
                }
            }
            moment.withUnsafeMutableBufferPointer { moment in
                targetSums.withUnsafeBufferPointer { targetSums in
                    Double.gemm(transposeA: true, transposeB: false, m: o, n: 1, k: u, a: observed.baseAddress!, lda: o,
                                b: targetSums.baseAddress!, ldb: 1, beta: 0, c: moment.baseAddress!, ldc: 1)
                }
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

    /// V(s_t) for every step of `batch`: u(o)ᵀw once per distinct observation, plus v(t)ᵀw.
    public func predict(_ batch: EpisodeBatch) -> [Double] {
        precondition(batch.observationSize == observationSize,
                     "a baseline for observations of size \(observationSize) got \(batch.observationSize)")
        let o = 2 * observationSize
        let observed = distinctObservationFeatures(of: batch)
        let observedValues = (0..<batch.distinctObservationCount).map { k in
            (0..<o).reduce(0.0) { $0 + observed[k * o + $1] * weights[$1] }
        }
        let timeWeights = SIMD4(weights[o], weights[o + 1], weights[o + 2], weights[o + 3])
        var values: [Double] = []
        values.reserveCapacity(batch.stepCount)
        var row = 0
        for length in batch.lengths {
            for t in 0..<length {
                values.append(observedValues[Int(batch.observationRows[row])] + (Self.timeFeatures(t) * timeWeights).sum())
                row += 1
            }
        }
        return values
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
