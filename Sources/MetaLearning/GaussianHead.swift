import Autodiff
import Environments
import RealModule

/// A diagonal Gaussian whose mean is the network's output and whose log standard deviation is a
/// learned vector independent of the state (pytorch-maml-rl's `NormalMLPPolicy`, MAML's policy):
/// π(a|s) = N(a; μ(s), diag σ²), σ = exp(max(log σ, log 10⁻⁶)).
public struct GaussianHead: DistributionHead, Equatable {
    public static let kind = "gaussian"
    public let actionSize: Int
    /// σ before training, in every dimension (1 in MAML).
    public let initialStd: Double

    public init(actionSize: Int, initialStd: Double = 1) {
        precondition(initialStd > 0, "the initial standard deviation must be positive, got \(initialStd)")
        self.actionSize = actionSize
        self.initialStd = initialStd
    }

    public var outputSize: Int { actionSize }
    public var parameterShapes: [[Int]] { [[actionSize]] }
    public var parameterNames: [String] { ["policy.log_std"] }
    public var outputName: String { "mean" }

    public func initialParameters<Scalar: TensorScalar>(as: Scalar.Type) -> [Tensor<Scalar>] {
        [Tensor.filled(Scalar(Double.log(initialStd)), shape: [actionSize])]
    }

    @specialized(where Scalar == Float)
    public func distribution<Scalar>(_ output: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> ActionDistribution<Scalar> {
        .gaussian(mean: output, logStd: parameters[0].clamped(to: Scalar(GaussianMLPPolicy.minimumLogStd)...Scalar.greatestFiniteMagnitude))
    }

    public func sampleActions(_ output: Tensor<Float>, parameters: [Tensor<Float>], using rng: inout SplitMix64) -> [Float] {
        guard case .gaussian(let mean, let logStd) = distribution(output, parameters: parameters) else { preconditionFailure() }
        let noise = Tensor<Float>.normal(mean.shape, using: &rng)
        return (mean + noise * logStd.exp()).scalars
    }

    private enum Keys: String, CodingKey { case initialStd }

    public init(from decoder: any Decoder, outputSize: Int) throws {
        let initialStd = try decoder.container(keyedBy: Keys.self).decodeIfPresent(Double.self, forKey: .initialStd) ?? 1
        guard initialStd > 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "initialStd must be positive"))
        }
        self.init(actionSize: outputSize, initialStd: initialStd)
    }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a head is decoded with its policy"))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(initialStd, forKey: .initialStd)
    }

    // MARK: - Derivative parts

    /// With u = (a − μ)/σ, ℓ = log σ and v_ℓ the log σ direction: G = −c·u/σ,
    /// ∂L/∂ℓ = −Σ c(u² − 1), Ġ = c(μ̇/σ² + 2u·v_ℓ/σ), (∂L/∂ℓ)˙ = Σ 2c(u·μ̇/σ + u²·v_ℓ).
    struct LossCurvature<Scalar: TensorScalar>: HeadLossCurvature {
        let c: [Scalar]
        let u: [Scalar]
        let inverseStd: [Scalar]
        /// Whether each log σ lies at or above its floor (a clamped one has zero derivatives).
        let free: [Bool]
        let outputAdjoint: [Scalar]
        let parameterGradient: [[Scalar]]

        func start(direction: [[Scalar]]) -> (direction: [Scalar], part: [Scalar]) {
            (free.indices.map { free[$0] ? direction[0][$0] : 0 }, [Scalar](repeating: 0, count: free.count))
        }

        @specialized(where Scalar == Float)
        func adjointTangent(rows: Range<Int>, outputTangent o: [Scalar], direction vLogStd: [Scalar], lvc: Bool,
                            part: inout [Scalar]) -> [Scalar] {
            let d = inverseStd.count
            var tangent = [Scalar](repeating: 0, count: o.count)
            for r in 0..<rows.count {
                let g = rows.lowerBound + r  // the row in the whole batch
                var q: Scalar = 0
                if lvc {
                    for j in 0..<d { q += u[g * d + j] * inverseStd[j] * o[r * d + j] + (u[g * d + j] * u[g * d + j] - 1) * vLogStd[j] }
                }
                for j in 0..<d {
                    let (i, gi) = (r * d + j, g * d + j)
                    let slope = u[gi] * inverseStd[j]
                    tangent[i] = c[g] * (o[i] * inverseStd[j] * inverseStd[j] + 2 * slope * vLogStd[j]) - c[g] * q * slope
                    part[j] += 2 * c[g] * (slope * o[i] + u[gi] * u[gi] * vLogStd[j]) - c[g] * q * (u[gi] * u[gi] - 1)
                }
            }
            return tangent
        }

        func finish(_ part: [Scalar]) -> [[Scalar]] { [free.indices.map { free[$0] ? part[$0] : 0 }] }
    }

    @specialized(where Scalar == Float)
    public func lossCurvature<Scalar>(output: [Scalar], rows: Int, parameters: [Tensor<Scalar>], actions: [Scalar], weights c: [Scalar])
        -> any HeadLossCurvature<Scalar> {
        let d = actionSize
        let floor = Scalar(GaussianMLPPolicy.minimumLogStd)
        let logStd = parameters[0].scalars
        let free = logStd.map { $0 >= floor }
        let inverseStd = logStd.map { Scalar.exp(-max($0, floor)) }
        var u = [Scalar](repeating: 0, count: rows * d)
        var adjoint = [Scalar](repeating: 0, count: rows * d)
        var logStdGradient = [Scalar](repeating: 0, count: d)
        for r in 0..<rows {
            for j in 0..<d {
                let i = r * d + j
                u[i] = (actions[i] - output[i]) * inverseStd[j]
                adjoint[i] = -c[r] * u[i] * inverseStd[j]
                logStdGradient[j] -= c[r] * (u[i] * u[i] - 1)
            }
        }
        for j in 0..<d where !free[j] { logStdGradient[j] = 0 }
        return LossCurvature(c: c, u: u, inverseStd: inverseStd, free: free, outputAdjoint: adjoint, parameterGradient: [logStdGradient])
    }

    /// Σ⁻¹ of the reference for the mean, and 2 per unclamped log σ.
    struct Fisher<Scalar: TensorScalar>: HeadFisher {
        let inverseVariance: [Scalar]
        let free: [Bool]

        @specialized(where Scalar == Float)
        func outputProduct(rows: Range<Int>, _ upstream: inout [Scalar], rowWeights: [Scalar]) {
            let width = inverseVariance.count
            for r in 0..<rows.count {
                let weight = rowWeights[rows.lowerBound + r]
                for j in 0..<width { upstream[r * width + j] *= inverseVariance[j] * weight }
            }
        }

        @specialized(where Scalar == Float)
        func parameterProduct(_ direction: [[Scalar]], weightSum: Scalar) -> [[Scalar]] {
            [direction[0].indices.map { free[$0] ? 2 * weightSum * direction[0][$0] : 0 }]
        }
    }

    @specialized(where Scalar == Float)
    public func fisher<Scalar>(current: ActionDistribution<Scalar>, parameters: [Tensor<Scalar>]) -> any HeadFisher<Scalar> {
        guard case .gaussian(_, let logStd) = current else { preconditionFailure("a Gaussian head's Fisher of another distribution") }
        let floor = Scalar(GaussianMLPPolicy.minimumLogStd)
        return Fisher(inverseVariance: logStd.scalars.map { Scalar.exp(-2 * $0) }, free: parameters[0].scalars.map { $0 >= floor })
    }
}
