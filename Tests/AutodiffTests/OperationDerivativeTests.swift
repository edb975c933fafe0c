import Autodiff
import Environments
import TestSupport
import Testing

/// One operation under test: how to draw its inputs and how to apply it.
struct OperationCase: Sendable, CustomTestStringConvertible {
    let name: String
    let inputs: [InputDistribution]
    let apply: @Sendable ([Tensor<Double>]) -> Tensor<Double>

    init(_ name: String, _ inputs: [InputDistribution], _ apply: @escaping @Sendable ([Tensor<Double>]) -> Tensor<Double>) {
        self.name = name
        self.inputs = inputs
        self.apply = apply
    }

    var testDescription: String { name }
}

private func u(_ shape: [Int], _ lower: Double = -1, _ upper: Double = 1) -> InputDistribution {
    .uniform(shape, lower, upper)
}

/// Every differentiable operation, on shapes that include the broadcasting edge cases.
let operationCases: [OperationCase] = [
    // Broadcasting arithmetic.
    .init("add same shape", [u([3, 4]), u([3, 4])]) { $0[0] + $0[1] },
    .init("add row vector", [u([3, 4]), u([4])]) { $0[0] + $0[1] },
    .init("add outer broadcast", [u([3, 1]), u([1, 4])]) { $0[0] + $0[1] },
    .init("add rank 3 with rank 2", [u([2, 3, 4]), u([3, 1])]) { $0[0] + $0[1] },
    .init("add scalar tensor", [u([]), u([2, 3])]) { $0[0] + $0[1] },
    .init("add one-element to vector", [u([1]), u([5])]) { $0[0] + $0[1] },
    .init("subtract row vector", [u([2, 3]), u([3])]) { $0[0] - $0[1] },
    .init("subtract into higher rank", [u([3, 1]), u([2, 1, 4])]) { $0[0] - $0[1] },
    .init("subtract from constant", [u([2, 3])]) { 2 - $0[0] },
    .init("multiply same shape", [u([2, 3]), u([2, 3])]) { $0[0] * $0[1] },
    .init("multiply outer broadcast", [u([4, 1]), u([1, 3])]) { $0[0] * $0[1] },
    .init("multiply by scalar tensor", [u([2, 3]), u([])]) { $0[0] * $0[1] },
    .init("divide same shape", [u([2, 3]), u([2, 3], 0.5, 2)]) { $0[0] / $0[1] },
    .init("divide by column", [u([3, 4]), u([3, 1], 0.5, 2)]) { $0[0] / $0[1] },
    .init("divide vector by matrix", [u([3]), u([2, 3], -2, -0.5)]) { $0[0] / $0[1] },
    .init("negate", [u([2, 3])]) { -$0[0] },
    // Pointwise functions.
    .init("exp", [u([3, 4])]) { $0[0].exp() },
    .init("log", [u([3, 4], 0.5, 2)]) { $0[0].log() },
    .init("tanh", [u([3, 4], -2, 2)]) { $0[0].tanh() },
    .init("sigmoid", [u([3, 4], -3, 3)]) { $0[0].sigmoid() },
    .init("relu", [.avoiding([3, 4], -1, 1, kinks: [0], gap: 0.05)]) { $0[0].relu() },
    .init("square", [u([3, 4])]) { $0[0].squared() },
    .init("square root", [u([3, 4], 0.5, 2)]) { $0[0].squareRoot() },
    .init("cube", [u([3, 4], -1.5, 1.5)]) { $0[0].raised(to: 3) },
    .init("power 2.5", [u([3, 4], 0.5, 2)]) { $0[0].raised(to: 2.5) },
    .init("clamp", [.avoiding([4, 5], -1, 1, kinks: [-0.5, 0.5], gap: 0.05)]) { $0[0].clamped(to: -0.5...0.5) },
    // Reductions.
    .init("sum of all", [u([3, 4])]) { $0[0].sum() },
    .init("sum along axis 0", [u([3, 4])]) { $0[0].sum(alongAxis: 0) },
    .init("sum along middle axis, kept", [u([2, 3, 4])]) { $0[0].sum(alongAxis: 1, keepingDimension: true) },
    .init("sum along last axis", [u([2, 3, 4])]) { $0[0].sum(alongAxis: 2) },
    .init("mean of all", [u([3, 4])]) { $0[0].mean() },
    .init("mean along axis 1", [u([3, 4])]) { $0[0].mean(alongAxis: 1) },
    .init("max of all", [.distinct([3, 4])]) { $0[0].max() },
    .init("max along axis 0", [.distinct([3, 4])]) { $0[0].max(alongAxis: 0) },
    .init("max along middle axis, kept", [.distinct([2, 3, 4])]) { $0[0].max(alongAxis: 1, keepingDimension: true) },
    .init("log-sum-exp along axis 1", [u([3, 4], -2, 2)]) { $0[0].logSumExp(alongAxis: 1) },
    .init("softmax along axis 1", [u([3, 4], -2, 2)]) { $0[0].softmax(alongAxis: 1) },
    .init("softmax along axis 0", [u([3, 4], -2, 2)]) { $0[0].softmax(alongAxis: 0) },
    .init("log-softmax along axis 1", [u([3, 5], -2, 2)]) { $0[0].logSoftmax(alongAxis: 1) },
    .init("log-softmax along axis 0", [u([4, 3], -2, 2)]) { $0[0].logSoftmax(alongAxis: 0) },
    // Indexing and selection.
    .init("gather along axis 1", [u([3, 4])]) { $0[0].gathering(indices: [3, 0, 1, 1, 2, 0], indexShape: [3, 2], alongAxis: 1) },
    .init("gather along axis 0", [u([4, 3])]) { $0[0].gathering(indices: [0, 3, 3, 2, 1, 0], indexShape: [2, 3], alongAxis: 0) },
    .init("scatter-add with repeats", [u([3, 2])]) { $0[0].scatteredAdding(indices: [1, 1, 0, 3, 2, 2], alongAxis: 1, extent: 4) },
    .init("select with broadcast", [u([3, 4]), u([4])]) { x in
        let condition = TensorMask(shape: [3, 4], values: (0..<12).map { $0 % 3 != 1 })
        return Tensor.selecting(condition, x[0], x[1])
    },
    // Shapes.
    .init("concatenate along axis 0", [u([2, 3]), u([1, 3])]) { Tensor.concatenate($0, alongAxis: 0) },
    .init("concatenate along axis 1", [u([2, 3]), u([2, 2]), u([2, 1])]) { Tensor.concatenate($0, alongAxis: 1) },
    .init("slice along axis 1", [u([3, 4])]) { $0[0].slice(1..<3, alongAxis: 1) },
    .init("slice along axis 0 of rank 3", [u([4, 2, 3])]) { $0[0].slice(2..<4, alongAxis: 0) },
    .init("reshape", [u([3, 4])]) { $0[0].reshaped([2, 6]) },
    .init("transpose", [u([3, 4])]) { $0[0].transposed() },
    .init("permute rank 3", [u([2, 3, 4])]) { $0[0].permuted([2, 0, 1]) },
    .init("broadcast to rank 3", [u([3, 1])]) { $0[0].broadcast(to: [2, 3, 4]) },
    .init("sum to broadcast shape", [u([2, 3, 4])]) { $0[0].summed(toShape: [3, 1]) },
    // Matrix products, every transpose case.
    .init("matmul", [u([3, 4]), u([4, 5])]) { Tensor.matmul($0[0], $0[1]) },
    .init("matmul Aᵀ·B", [u([4, 3]), u([4, 5])]) { Tensor.matmul($0[0], $0[1], transposingA: true) },
    .init("matmul A·Bᵀ", [u([3, 4]), u([5, 4])]) { Tensor.matmul($0[0], $0[1], transposingB: true) },
    .init("matmul Aᵀ·Bᵀ", [u([4, 3]), u([5, 4])]) { Tensor.matmul($0[0], $0[1], transposingA: true, transposingB: true) },
    .init("dot", [u([2, 3]), u([2, 3])]) { Tensor.dot($0[0], $0[1]) },
    .init("linear layer", [u([5, 3]), u([3, 4]), u([4])]) { Tensor.linear($0[0], $0[1], $0[2]) },
    // A tensor used several times: gradients from every use must add up.
    .init("reused operand", [u([3, 4], -1.5, 1.5)]) { $0[0] * $0[0].tanh() + $0[0].exp() * $0[0] },
]

@Suite("Derivatives of every operation against finite differences (Double)")
struct OperationDerivativeTests {
    @Test(arguments: operationCases.indices.map { ($0, operationCases[$0]) })
    func firstDerivative(index: Int, operation: OperationCase) {
        var rng = testGenerator(index)
        let inputs = operation.inputs.map { $0.sample(using: &rng) }
        let outputShape = operation.apply(inputs).shape
        let weights = Tensor<Double>.uniform(outputShape, in: -1...1, using: &rng)
        let report = FiniteDifferences.checkGradient(of: operation.apply, at: inputs, weights: weights)
        #expect(report.passed, "\(operation.name): \(report)")
    }

    /// H·v of L = Σ w₁ ⊙ f + Σ w₂ ⊙ f²: the second term makes the pullback's own derivative with
    /// respect to its upstream gradient matter even for linear operations.
    @Test(arguments: operationCases.indices.map { ($0, operationCases[$0]) })
    func hessianVectorProduct(index: Int, operation: OperationCase) {
        var rng = testGenerator(1000 + index)
        let inputs = operation.inputs.map { $0.sample(using: &rng) }
        let outputShape = operation.apply(inputs).shape
        let w1 = Tensor<Double>.uniform(outputShape, in: -1...1, using: &rng)
        let w2 = Tensor<Double>.uniform(outputShape, in: -1...1, using: &rng)
        let direction = inputs.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let apply = operation.apply
        let loss: FiniteDifferences.Function = { x in
            let y = apply(x)
            return (y * w1).sum() + (y.squared() * w2).sum()
        }
        let report = FiniteDifferences.checkHessianVectorProduct(of: loss, at: inputs, direction: direction, step: 1e-4)
        #expect(report.passed, "\(operation.name): \(report)")
    }
}
