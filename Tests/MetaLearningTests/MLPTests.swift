import RealModule
import Autodiff
import Environments
import MetaLearning
import Testing

@Suite("MLP")
struct MLPTests {
    @Test func parameterShapesFollowTheLayerSizes() {
        let network = MLP(layerSizes: [2, 64, 64, 2], activation: .tanh)
        #expect(network.parameterShapes == [[2, 64], [64], [64, 64], [64], [64, 2], [2]])
        var rng = RandomStream.derive(seed: 0, purpose: .parameterInitialisation)
        let parameters = network.initialParameters(as: Float.self, using: &rng)
        #expect(parameters.map(\.shape) == network.parameterShapes)
    }

    /// Glorot-uniform bounds √(6/(in+out)), zero biases, and a spread that fills the range.
    @Test func initialisationIsGlorotUniform() {
        let network = MLP(layerSizes: [3, 50, 1], activation: .relu)
        var rng = RandomStream.derive(seed: 1, purpose: .parameterInitialisation)
        let p = network.initialParameters(as: Double.self, using: &rng)
        let bound = (6.0 / 53).squareRoot()
        #expect(p[0].scalars.allSatisfy { abs($0) <= bound })
        #expect(p[0].scalars.max()! > 0.8 * bound && p[0].scalars.min()! < -0.8 * bound)
        #expect(p[1].scalars.allSatisfy { $0 == 0 } && p[3].scalars.allSatisfy { $0 == 0 })
    }

    /// A hand-computed forward pass: one hidden tanh unit, one linear output.
    @Test func forwardPassMatchesHandComputation() {
        let network = MLP(layerSizes: [2, 1, 1], activation: .tanh)
        let parameters: [Tensor<Double>] = [
            Tensor(shape: [2, 1], scalars: [0.5, -1]), Tensor([0.25]),
            Tensor(shape: [1, 1], scalars: [2]), Tensor([-0.5]),
        ]
        let x = Tensor<Double>(shape: [2, 2], scalars: [1, 1, 0, 2])
        let y = network(x, parameters: parameters).scalars
        let expected = [2 * Double.tanh(0.5 - 1 + 0.25) - 0.5, 2 * Double.tanh(-2 + 0.25) - 0.5]
        #expect(zip(y, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(y) vs \(expected)")
    }

    @Test func reluZeroesNegativePreActivations() {
        let network = MLP(layerSizes: [1, 2, 1], activation: .relu)
        let parameters: [Tensor<Double>] = [
            Tensor(shape: [1, 2], scalars: [1, -1]), Tensor([0, 0]),
            Tensor(shape: [2, 1], scalars: [1, 1]), Tensor([0]),
        ]
        let y = network(Tensor(shape: [2, 1], scalars: [3, -2]), parameters: parameters).scalars
        #expect(y == [3, 2])
    }

    /// The forward-mode J·v the KL curvature uses, against central differences of the output.
    @Test(arguments: [MLP.Activation.tanh, .relu])
    func jacobianProductMatchesFiniteDifferences(activation: MLP.Activation) {
        let network = MLP(layerSizes: [3, 7, 5, 2], activation: activation)
        var rng = RandomStream.derive(seed: 2, purpose: .testFixture)
        let theta = network.initialParameters(as: Double.self, using: &rng).map { $0 + Tensor.uniform($0.shape, in: -0.3...0.3, using: &rng) }
        let x = Tensor<Double>.uniform([6, 3], in: -2...2, using: &rng)
        let v = theta.map { Tensor<Double>.uniform($0.shape, in: -1...1, using: &rng) }
        let analytic = network.jacobianProduct(network.linearise(x, parameters: theta), tangents: v).scalars
        let h = 1e-6
        let plus = network(x, parameters: zip(theta, v).map { $0 + h * $1 }).scalars
        let minus = network(x, parameters: zip(theta, v).map { $0 - h * $1 }).scalars
        let numerical = zip(plus, minus).map { ($0 - $1) / (2 * h) }
        let worst = zip(analytic, numerical).map { abs($0 - $1) / (1 + abs($1)) }.max()!
        #expect(worst < 1e-6, "J·v differs from central differences by \(worst)")
    }
}
