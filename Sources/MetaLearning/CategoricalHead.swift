import Autodiff
import Environments
import RealModule

/// A categorical distribution over `actionCount` discrete actions whose logits are the network's
/// output (pytorch-maml-rl's `CategoricalMLPPolicy`): π(a|s) = softmax(f(s))_a. Actions are passed
/// around as their index, one float per step.
public struct CategoricalHead: DistributionHead, Equatable {
    public static let kind = "categorical"
    public let actionCount: Int

    public init(actionCount: Int) {
        precondition(actionCount >= 2, "a categorical policy needs at least two actions, got \(actionCount)")
        self.actionCount = actionCount
    }

    public var outputSize: Int { actionCount }
    public var actionSize: Int { 1 }
    public var parameterShapes: [[Int]] { [] }
    public var parameterNames: [String] { [] }
    public var outputName: String { "logits" }

    public func initialParameters<Scalar: TensorScalar>(as: Scalar.Type) -> [Tensor<Scalar>] { [] }

    @specialized(where Scalar == Float)
    public func distribution<Scalar>(_ output: Tensor<Scalar>, parameters: [Tensor<Scalar>]) -> ActionDistribution<Scalar> {
        .categorical(logProbabilities: output.logSoftmax(alongAxis: 1))
    }

    /// An action index per row (as a float), by inverting the cumulative distribution at a uniform draw.
    public func sampleActions(_ output: Tensor<Float>, parameters: [Tensor<Float>], using rng: inout SplitMix64) -> [Float] {
        let logp = output.logSoftmax(alongAxis: 1).scalars
        let n = actionCount
        return (0..<output.shape[0]).map { row in
            let u = Float.random(in: 0..<1, using: &rng)
            var cumulative: Float = 0
            for a in 0..<(n - 1) {
                cumulative += Float.exp(logp[row * n + a])
                if u < cumulative { return Float(a) }
            }
            return Float(n - 1)
        }
    }

    public init(from decoder: any Decoder, outputSize: Int) throws {
        guard outputSize >= 2 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a categorical policy needs at least two actions"))
        }
        self.init(actionCount: outputSize)
    }

    public init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a head is decoded with its policy"))
    }

    public func encode(to encoder: any Encoder) throws {}

    // MARK: - Derivative parts

    /// Over logits o with probabilities p: G = c(p − e_a), Ġ = c(p⊙ȯ − p(p·ȯ)); LVC adds
    /// c·q·(p − e_a) with q = (e_a − p)·ȯ.
    struct LossCurvature<Scalar: TensorScalar>: HeadLossCurvature {
        let c: [Scalar]
        let p: [Scalar]
        let actions: [Int]
        let outputAdjoint: [Scalar]
        var parameterGradient: [[Scalar]] { [] }

        func start(direction: [[Scalar]]) -> (direction: [Scalar], part: [Scalar]) { ([], []) }

        @specialized(where Scalar == Float)
        func adjointTangent(rows: Range<Int>, outputTangent o: [Scalar], direction: [Scalar], lvc: Bool,
                            part: inout [Scalar]) -> [Scalar] {
            var tangent = [Scalar](repeating: 0, count: o.count)
            let n = o.count / max(rows.count, 1)
            for r in 0..<rows.count {
                let (g, row) = (rows.lowerBound + r, r * n)
                let global = g * n
                var expected: Scalar = 0
                for j in 0..<n { expected += p[global + j] * o[row + j] }
                let q = lvc ? o[row + actions[g]] - expected : 0
                for j in 0..<n {
                    let score = (j == actions[g] ? 1 : 0) - p[global + j]
                    tangent[row + j] = c[g] * (p[global + j] * (o[row + j] - expected) - q * score)
                }
            }
            return tangent
        }

        func finish(_ part: [Scalar]) -> [[Scalar]] { [] }
    }

    @specialized(where Scalar == Float)
    public func lossCurvature<Scalar>(output logits: [Scalar], rows: Int, parameters: [Tensor<Scalar>], actions: [Scalar],
                                      weights c: [Scalar]) -> any HeadLossCurvature<Scalar> {
        let n = actionCount
        var p = [Scalar](repeating: 0, count: rows * n)
        let indices = actions.map { Int($0) }
        var adjoint = [Scalar](repeating: 0, count: rows * n)
        for r in 0..<rows {
            let row = r * n
            var largest = logits[row]
            for j in 1..<n { largest = max(largest, logits[row + j]) }
            var total: Scalar = 0
            for j in 0..<n {
                p[row + j] = Scalar.exp(logits[row + j] - largest)
                total += p[row + j]
            }
            for j in 0..<n {
                p[row + j] /= total
                adjoint[row + j] = c[r] * (p[row + j] - (j == indices[r] ? 1 : 0))
            }
        }
        return LossCurvature(c: c, p: p, actions: indices, outputAdjoint: adjoint)
    }

    /// (diag p − ppᵀ)·u per row; it sums to zero, so the log-softmax passes it unchanged.
    struct Fisher<Scalar: TensorScalar>: HeadFisher {
        let p: [Scalar]

        @specialized(where Scalar == Float)
        func outputProduct(rows: Range<Int>, _ upstream: inout [Scalar], rowWeights: [Scalar]) {
            let width = upstream.count / max(rows.count, 1)
            for r in 0..<rows.count {
                let (row, global) = (r * width, (rows.lowerBound + r) * width)
                var expected: Scalar = 0
                for j in 0..<width { expected += p[global + j] * upstream[row + j] }
                let weight = rowWeights[rows.lowerBound + r]
                for j in 0..<width { upstream[row + j] = p[global + j] * (upstream[row + j] - expected) * weight }
            }
        }

        @specialized(where Scalar == Float)
        func parameterProduct(_ direction: [[Scalar]], weightSum: Scalar) -> [[Scalar]] { [] }
    }

    @specialized(where Scalar == Float)
    public func fisher<Scalar>(current: ActionDistribution<Scalar>, parameters: [Tensor<Scalar>]) -> any HeadFisher<Scalar> {
        guard case .categorical(let logp) = current else { preconditionFailure("a categorical head's Fisher of another distribution") }
        return Fisher(p: logp.scalars.map { Scalar.exp($0) })
    }
}
