import Autodiff
import Dispatch
import TestSupport
import Testing

@Suite("Concurrency")
struct ConcurrencyTests {
    /// Hessian–vector products of two different problems, computed once alone and then at the
    /// same time on two threads, must agree bit for bit: graphs share no state.
    @Test func twoThreadsDifferentiateIndependentGraphs() {
        let problems = (0..<2).map { GaussianPolicyFixture(sizes: [2, 16, 16, 2], rows: 64, seed: 100 + $0) }
        @Sendable func work(_ i: Int) -> [Double] {
            let theta = problems[i].parameters(seed: 200 + i)
            var rng = testGenerator(300 + i)
            let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
            var result: [Double] = []
            for _ in 0..<20 {
                let hv = FiniteDifferences.hessianVectorProduct(of: problems[i].surrogateLoss, at: theta, direction: v)
                result = hv.flatMap(\.scalars)
            }
            return result
        }
        let alone = [work(0), work(1)]
        let results = ResultSlots(count: 2)
        DispatchQueue.concurrentPerform(iterations: 2) { results.store(work($0), at: $0) }
        #expect(results.values == alone)
        #expect(alone[0] != alone[1])
    }
}

/// Results written by concurrent workers, one slot each.
final class ResultSlots: @unchecked Sendable {
    private var slots: [[Double]]
    private let lock = DispatchQueue(label: "result-slots")
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func store(_ value: [Double], at index: Int) { lock.sync { slots[index] = value } }
    var values: [[Double]] { lock.sync { slots } }
}

@Suite("Parameter vectors, conjugate gradient, optimizers")
struct UtilityTests {
    @Test func flattenAndUnflattenRoundTrip() {
        var rng = testGenerator(1)
        let tensors = [[2, 3], [3], [1, 1, 2]].map { Tensor<Double>.uniform($0, in: -1...1, using: &rng) }
        let vector = ParameterVector.flatten(tensors)
        #expect(vector.shape == [11])
        #expect(vector.scalars == tensors.flatMap(\.scalars))
        let back = ParameterVector.unflatten(vector, shapes: tensors.map(\.shape))
        #expect(back.map(\.shape) == tensors.map(\.shape))
        #expect(back.map(\.scalars) == tensors.map(\.scalars))
    }

    @Test func gradientFlowsThroughFlattening() {
        let a = Tensor<Double>.variable(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        let b = Tensor<Double>.variable(Tensor([5, 6]))
        let weights = Tensor<Double>((1...6).map(Double.init))
        let g = gradients(of: (ParameterVector.flatten([a, b]) * weights).sum(), wrt: [a, b])
        #expect(g[0].scalars == [1, 2, 3, 4])
        #expect(g[1].scalars == [5, 6])
    }

    /// A = MᵀM + I is symmetric positive definite; n conjugate-gradient steps solve an n×n system.
    @Test func conjugateGradientSolvesPositiveDefiniteSystem() {
        var rng = testGenerator(2)
        let m = Tensor<Double>.uniform([6, 6], in: -1...1, using: &rng)
        let a = Tensor.matmul(m, m, transposingA: true) + Tensor(shape: [6, 6], scalars: (0..<36).map { $0 % 7 == 0 ? 1 : 0 })
        let b = Tensor<Double>.uniform([6], in: -1...1, using: &rng)
        var products = 0
        let x = conjugateGradient({ p in
            products += 1
            return Tensor.matmul(a, p.reshaped([6, 1])).reshaped([6])
        }, b: b, iterations: 10, residualTolerance: 1e-20)
        let residual = Tensor.matmul(a, x.reshaped([6, 1])).reshaped([6]) - b
        #expect(residual.squared().sum().scalar < 1e-16, "‖Ax − b‖² = \(residual.squared().sum().scalar)")
        #expect(products <= 7, "took \(products) products for a 6×6 system")
    }

    @Test func conjugateGradientStopsAfterTheIterationBudget() {
        let diagonal = Tensor<Double>((1...20).map(Double.init))
        var products = 0
        _ = conjugateGradient({ p in products += 1; return diagonal * p }, b: .ones([20]), iterations: 3)
        #expect(products == 3)
    }

    /// Stopped early (3 of 20 steps), the returned A·x is still the product at the returned x.
    @Test func conjugateGradientReturnsTheProductAtItsSolution() {
        let diagonal = Tensor<Double>((1...20).map(Double.init))
        let b = Tensor<Double>((1...20).map { Double($0 % 7) - 3 })
        let (x, ax) = conjugateGradientWithProduct({ diagonal * $0 }, b: b, iterations: 3)
        let gap = (ax - diagonal * x).squared().sum().scalar.squareRoot()
        #expect(gap < 1e-12, "‖returned A·x − A·x‖ = \(gap)")
        #expect(((ax - b) as Tensor<Double>).squared().sum().scalar > 1e-3, "after 3 steps x is not the solution yet, so the check means something")
    }

    @Test func sgdTakesOneStepAlongTheNegativeGradient() {
        var sgd = SGD<Double>(learningRate: 0.5)
        var parameters = [Tensor<Double>([1, 2])]
        sgd.update(&parameters, along: [Tensor([0.2, -4])])
        #expect(parameters[0].scalars == [0.9, 4])
    }

    @Test func sgdMomentumAccumulatesVelocity() {
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        var parameters = [Tensor<Double>([0])]
        sgd.update(&parameters, along: [Tensor([1])])   // v = 1, θ = −0.1
        sgd.update(&parameters, along: [Tensor([1])])   // v = 1.9, θ = −0.29
        #expect(abs(parameters[0].scalar + 0.29) < 1e-12)
    }

    /// Adam's first bias-corrected step has length η in every coordinate, whatever the gradient's scale.
    @Test func adamFirstStepHasTheLearningRateAsLength() {
        var adam = Adam<Double>(learningRate: 0.01, epsilon: 1e-12)
        var parameters = [Tensor<Double>([1, 1, 1])]
        adam.update(&parameters, along: [Tensor([1e-3, -5, 200])])
        let steps = parameters[0].scalars.map { $0 - 1 }
        #expect(zip(steps, [-0.01, 0.01, -0.01]).allSatisfy { abs($0 - $1) < 1e-9 }, "steps \(steps)")
        #expect(adam.step == 1)
    }

    @Test func adamMinimisesAnIllConditionedQuadratic() {
        var adam = Adam<Double>(learningRate: 0.05)
        var parameters = [Tensor<Double>([3, -2])]
        let scales = Tensor<Double>([100, 1])
        for _ in 0..<2000 {
            let x = Tensor.variable(parameters[0])
            let g = gradients(of: (scales * x.squared()).sum(), wrt: [x])
            adam.update(&parameters, along: g)
        }
        #expect(parameters[0].scalars.allSatisfy { abs($0) < 1e-2 }, "ended at \(parameters[0].scalars)")
    }
}

@Suite("Float path")
struct FloatPathTests {
    /// The Float kernels use a rational tanh; it must stay within 4e-7 of libm's Double tanh
    /// (measured worst case over a dense sweep: 3.6e-7).
    @Test func rationalTanhIsAccurate() {
        let xs = (0...20_000).map { Float(-10 + Double($0) * 0.001) }
        let approximation = Tensor<Float>(xs).tanh().scalars
        let worst = zip(xs, approximation).map { abs(Double($1) - Double.tanh(Double($0))) }.max()!
        #expect(worst < 4e-7, "worst error \(worst)")
    }

    /// Float and Double evaluate the same definitions: their gradients agree to Float precision.
    @Test func floatGradientsMatchDouble() {
        let fixture = GaussianPolicyFixture(sizes: [2, 8, 2], rows: 16, seed: 11)
        let theta = fixture.parameters(seed: 12)
        let doubleGradient = FiniteDifferences.gradient(of: fixture.surrogateLoss, at: theta).flatMap(\.scalars)
        let obs = fixture.observations.converted(to: Float.self)
        let actions = fixture.actions.converted(to: Float.self)
        let advantages = fixture.advantages.converted(to: Float.self)
        let floatTheta = theta.map { Tensor<Float>.variable($0.converted()) }
        var h = obs.matmul(floatTheta[0]) + floatTheta[1]
        h = h.tanh().matmul(floatTheta[2]) + floatTheta[3]
        let z = (actions - h) / floatTheta[4].exp()
        let logp = (-0.5 * z.squared() - floatTheta[4] - 0.5 * Float.log(2 * Float.pi)).sum(alongAxis: 1, keepingDimension: true)
        let floatGradient = gradients(of: -(logp * advantages).mean(), wrt: floatTheta).flatMap(\.scalars)
        let worst = zip(doubleGradient, floatGradient).map { abs($0 - Double($1)) / (1e-3 + abs($0)) }.max()!
        #expect(worst < 1e-4, "worst relative difference \(worst)")
    }
}

@Suite("NaN propagation")
struct NaNPropagationTests {
    /// relu(NaN) used to be 0, hiding a diverged network; PyTorch returns NaN, and so do we.
    @Test func reluPassesNaNThrough() {
        let y = Tensor<Float>([Float.nan, -1, 0, 2]).relu().scalars
        #expect(y[0].isNaN)
        #expect(Array(y.dropFirst()) == [0, 0, 2])
        let d = Tensor<Double>([Double.nan, -3, 4]).relu().scalars
        #expect(d[0].isNaN && d[1] == 0 && d[2] == 4)
    }
}
