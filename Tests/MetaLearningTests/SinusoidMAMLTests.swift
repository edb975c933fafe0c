import Autodiff
import Environments
import MetaLearning
import TestSupport
import Testing

/// Sinusoid regression, the supervised benchmark of Finn, Abbeel & Levine (ICML 2017, §5.1): a
/// task is y = A·sin(x − φ) with A ~ U[0.1, 5] and φ ~ U[0, π]; inputs x ~ U[−5, 5]; K = 10
/// points to adapt on and 10 more to evaluate on.
struct SinusoidTask {
    let amplitude: Double
    let phase: Double

    static func sample(using rng: inout SplitMix64) -> SinusoidTask {
        SinusoidTask(amplitude: .random(in: 0.1...5, using: &rng), phase: .random(in: 0...Double.pi, using: &rng))
    }

    /// `count` points (x, y) as two [count, 1] tensors.
    func points<Scalar: TensorScalar>(_ count: Int, as: Scalar.Type = Scalar.self, using rng: inout SplitMix64) -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        let xs = (0..<count).map { _ in Double.random(in: -5...5, using: &rng) }
        let ys = xs.map { amplitude * Double.sin($0 - phase) }
        return (Tensor(shape: [count, 1], scalars: xs.map { Scalar($0) }), Tensor(shape: [count, 1], scalars: ys.map { Scalar($0) }))
    }
}

/// MAML for regression: θ' = θ − α∇θ L_support(θ) (one step, graph kept), meta-loss L_query(θ').
struct SinusoidMAML {
    let network = MLP(layerSizes: [1, 40, 40, 1], activation: .relu)
    /// α, the inner step size.
    let innerStepSize: Double

    func mse<Scalar>(_ parameters: [Tensor<Scalar>], _ data: (x: Tensor<Scalar>, y: Tensor<Scalar>)) -> Tensor<Scalar> {
        (network(data.x, parameters: parameters) - data.y).squared().mean()
    }

    func adapted<Scalar>(_ parameters: [Tensor<Scalar>], on support: (x: Tensor<Scalar>, y: Tensor<Scalar>), firstOrder: Bool = false) -> [Tensor<Scalar>] {
        let theta = parameters.map { $0.isTracked ? $0 : .variable($0) }
        let g = gradients(of: mse(theta, support), wrt: theta, createGraph: !firstOrder)
        return zip(theta, g).map { $0 - Scalar(innerStepSize) * $1 }
    }

    /// The mean post-adaptation query loss over a batch of tasks.
    func metaLoss<Scalar>(_ parameters: [Tensor<Scalar>], tasks: [(support: (x: Tensor<Scalar>, y: Tensor<Scalar>), query: (x: Tensor<Scalar>, y: Tensor<Scalar>))], firstOrder: Bool = false) -> Tensor<Scalar> {
        tasks.map { mse(adapted(parameters, on: $0.support, firstOrder: firstOrder), $0.query) }
            .reduce(Tensor(0), +) / Scalar(tasks.count)
    }
}

@Suite("MAML on sinusoid regression")
struct SinusoidMAMLTests {
    @Test("The exact second-order meta-gradient matches finite differences of the post-adaptation loss")
    func metaGradientMatchesFiniteDifferences() {
        var rng = testGenerator(41)
        let maml = SinusoidMAML(innerStepSize: 0.01)
        let theta = maml.network.initialParameters(as: Double.self, using: &rng)
        let tasks = (0..<3).map { _ -> (support: (x: Tensor<Double>, y: Tensor<Double>), query: (x: Tensor<Double>, y: Tensor<Double>)) in
            let task = SinusoidTask.sample(using: &rng)
            return (task.points(10, using: &rng), task.points(10, using: &rng))
        }
        let report = FiniteDifferences.checkGradient(
            of: { maml.metaLoss($0, tasks: tasks) }, at: theta, weights: Tensor(1), step: 1e-6, absolute: 1e-7, relative: 1e-5)
        #expect(report.passed, "\(report)")
        #expect(report.compared == 1 * 40 + 40 + 40 * 40 + 40 + 40 + 1)

        // The second-order terms are real: first-order MAML's gradient is measurably different.
        let variables = theta.map { Tensor.variable($0) }
        let exact = gradients(of: maml.metaLoss(variables, tasks: tasks), wrt: variables).flatMap(\.scalars)
        let firstOrder = gradients(of: maml.metaLoss(variables, tasks: tasks, firstOrder: true), wrt: variables).flatMap(\.scalars)
        let gap = zip(exact, firstOrder).map { abs($0 - $1) }.max()!
        #expect(gap > 1e-4, "largest difference between exact and first-order meta-gradients: \(gap)")
    }

    @Test("A short meta-training run makes one adaptation step pay off on held-out tasks")
    func metaTrainingLowersPostAdaptationLoss() {
        let maml = SinusoidMAML(innerStepSize: 0.01)
        var rng = testGenerator(42)
        var theta = maml.network.initialParameters(as: Float.self, using: &rng)
        var adam = Adam<Float>(learningRate: 1e-3)
        let iterations = 1000, metaBatch = 10
        for _ in 0..<iterations {
            let tasks = (0..<metaBatch).map { _ -> (support: (x: Tensor<Float>, y: Tensor<Float>), query: (x: Tensor<Float>, y: Tensor<Float>)) in
                let task = SinusoidTask.sample(using: &rng)
                return (task.points(10, using: &rng), task.points(10, using: &rng))
            }
            let variables = theta.map { Tensor.variable($0) }
            adam.update(&theta, along: gradients(of: maml.metaLoss(variables, tasks: tasks), wrt: variables))
        }
        var heldOut = testGenerator(43)
        var before = 0.0, after = 0.0
        let heldOutTasks = 100
        for _ in 0..<heldOutTasks {
            let task = SinusoidTask.sample(using: &heldOut)
            let support: (x: Tensor<Float>, y: Tensor<Float>) = task.points(10, using: &heldOut)
            let query: (x: Tensor<Float>, y: Tensor<Float>) = task.points(100, using: &heldOut)
            before += Double(maml.mse(theta, query).scalar)
            after += Double(maml.mse(maml.adapted(theta, on: support, firstOrder: true).map(\.detached), query).scalar)
        }
        before /= Double(heldOutTasks)
        after /= Double(heldOutTasks)
        print("sinusoid MAML after \(iterations) iterations: MSE before adaptation \(before), after one step \(after)")
        #expect(after < 0.5 * before, "post-adaptation MSE \(after) vs pre-adaptation \(before)")
    }
}
