import Autodiff
import TestSupport
import Testing

@Suite("Higher-order derivatives")
struct HigherOrderTests {
    let fixture = GaussianPolicyFixture(sizes: [2, 5, 2], rows: 7, seed: 1)

    @Test("Hessian–vector product of a Gaussian policy-gradient loss")
    func policyLossHessian() {
        let theta = fixture.parameters(seed: 2)
        var rng = testGenerator(3)
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let report = FiniteDifferences.checkHessianVectorProduct(of: fixture.surrogateLoss, at: theta, direction: v)
        #expect(report.passed, "\(report)")
    }

    @Test("Third order: the gradient of ⟨u, H(θ)·v⟩")
    func thirdOrder() {
        let theta = fixture.parameters(seed: 4)
        var rng = testGenerator(5)
        let u = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let report = FiniteDifferences.checkThirdOrder(of: fixture.surrogateLoss, at: theta, u: u, v: v)
        #expect(report.passed, "\(report)")
        #expect(report.compared == theta.reduce(0) { $0 + $1.count })
    }

    /// MAML-TRPO's curvature: the Hessian of KL(π_θ'(θ₀) ‖ π_θ'(θ)) at θ₀ where θ' = θ − α∇L(θ),
    /// differentiated through the inner step (third derivatives of the policy are involved).
    @Test("Hessian–vector product of a KL taken through an inner gradient step")
    func klThroughInnerStep() {
        let theta0 = fixture.parameters(seed: 6)
        let adapted0 = fixture.adapted(theta0.map { .variable($0) }, stepSize: 0.5)
        let reference = (mean: fixture.mean(adapted0).detached, logStd: adapted0.last!.detached)
        let kl: FiniteDifferences.Function = { theta in
            fixture.meanKL(from: reference, to: fixture.adapted(theta, stepSize: 0.5))
        }
        #expect(abs(kl(theta0).scalar) < 1e-12, "KL of a policy with itself is \(kl(theta0).scalar)")
        var rng = testGenerator(7)
        let v = theta0.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let report = FiniteDifferences.checkHessianVectorProduct(of: kl, at: theta0, direction: v)
        #expect(report.passed, "\(report)")
        // The curvature is not the one of the unadapted policy: the inner step matters.
        let direct: FiniteDifferences.Function = { fixture.meanKL(from: (fixture.mean(theta0).detached, theta0.last!.detached), to: $0) }
        let hvAdapted = FiniteDifferences.hessianVectorProduct(of: kl, at: theta0, direction: v)
        let hvDirect = FiniteDifferences.hessianVectorProduct(of: direct, at: theta0, direction: v)
        let difference = zip(hvAdapted, hvDirect).map { ($0 - $1).squared().sum().scalar }.reduce(0, +)
        #expect(difference > 1e-4, "through the inner step H·v should differ; squared difference \(difference)")
    }
}

@Suite("Gradient bookkeeping")
struct GradientBookkeepingTests {
    @Test("An input the output does not depend on gets zeros of its shape")
    func unrelatedInput() {
        let x = Tensor<Double>.variable(.filled(2, shape: [2, 2]))
        let unrelated = Tensor<Double>.variable(.ones([3]))
        let g = gradients(of: (x * x).sum(), wrt: [x, unrelated])
        #expect(g[0].scalars == [4, 4, 4, 4])
        #expect(g[1].shape == [3] && g[1].scalars == [0, 0, 0])
    }

    @Test("Gradient with respect to an intermediate result and a leaf together")
    func intermediateTarget() {
        let x = Tensor<Double>.variable(Tensor([1, 2, 3]))
        let h = x.squared()           // h = x²
        let y = (h * 3).sum()         // y = 3 Σ x²
        let g = gradients(of: y, wrt: [h, x])
        #expect(g[0].scalars == [3, 3, 3])
        #expect(g[1].scalars == [6, 12, 18])
    }

    @Test("A vector–Jacobian product with an explicit seed")
    func seededProduct() {
        let x = Tensor<Double>.variable(Tensor([1, 2]))
        let y = x.exp()
        let g = gradients(of: y, wrt: [x], seed: Tensor([2, -1]))
        #expect(abs(g[0].scalars[0] - 2 * Double.exp(1)) < 1e-12)
        #expect(abs(g[0].scalars[1] + Double.exp(2)) < 1e-12)
    }

    @Test("Without createGraph the gradient is untracked; with it, tracked")
    func graphRecording() {
        let x = Tensor<Double>.variable(Tensor([0.5]))
        let loss = x.tanh().sum()
        #expect(!gradients(of: loss, wrt: [x])[0].isTracked)
        #expect(gradients(of: loss, wrt: [x], createGraph: true)[0].isTracked)
    }
}
