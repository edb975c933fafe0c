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
}
