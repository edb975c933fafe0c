import Autodiff
import Environments
import Experiments
import Foundation
import MetaLearning
import Testing

/// A fresh temporary directory for one test.
func temporaryDirectory(_ label: String) -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-\(label)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite("Safetensors and checkpoints")
struct CheckpointTests {
    @Test func safetensorsRoundTripsShapesValuesAndMetadata() throws {
        let a = Tensor<Float>(shape: [2, 3], scalars: [1, -2, 3.5, .pi, 0, -0])
        let b = Tensor<Float>([7])
        let data = try Safetensors.encode([(name: "a", tensor: a), (name: "b", tensor: b)], metadata: ["k": "v"])
        // 8-byte length, then a JSON header padded so that the data is 8-byte aligned.
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0)
        #expect(data.count == 8 + headerLength + 4 * 7)
        let (tensors, metadata) = try Safetensors.decode(data, path: "x")
        #expect(tensors["a"]?.shape == [2, 3] && tensors["a"]?.scalars == a.scalars)
        #expect(tensors["b"]?.scalars == [7])
        #expect(metadata == ["k": "v"])
    }

    @Test func corruptSafetensorsAreRejectedNamingTheFile() throws {
        let good = try Safetensors.encode([(name: "a", tensor: Tensor<Float>([1, 2]))])
        #expect(throws: RunError.corruptFile(path: "f", reason: "shorter than the 8-byte header length")) {
            try Safetensors.decode(good.prefix(5), path: "f")
        }
        #expect(throws: RunError.self) { try Safetensors.decode(good.prefix(good.count - 3), path: "f") }
        var badHeader = good
        badHeader[9] = 0x7B  // break the JSON
        badHeader[10] = 0x7B
        #expect(throws: RunError.self) { try Safetensors.decode(badHeader, path: "f") }
    }

    func checkpoint(hidden: [Int] = [4]) -> Checkpoint {
        let policy = Policy.gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: hidden, activation: .tanh))
        var rng = RandomStream.derive(seed: 5, purpose: .parameterInitialisation)
        var configuration = TrainingConfiguration()
        configuration.hidden = hidden
        return Checkpoint(manifest: .init(iteration: 7, configuration: configuration, specName: "navigation",
                                          family: AnyEnvironmentFamily(PointRobotFamily.navigation), policy: .feedForward(policy)),
                          parameters: policy.initialParameters(as: Float.self, using: &rng))
    }

    @Test func checkpointsRoundTrip() throws {
        let directory = temporaryDirectory("checkpoint")
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = checkpoint()
        try saved.save(in: directory)
        let loaded = try Checkpoint.load(from: directory)
        #expect(loaded.manifest == saved.manifest)
        #expect(loaded.parameters.map(\.scalars) == saved.parameters.map(\.scalars))
        // Either file's path works too.
        #expect(try Checkpoint.load(from: directory.appendingPathComponent("checkpoint.json")).manifest.iteration == 7)
    }

    @Test func aCheckpointOfAnotherPolicyShapeIsRefused() throws {
        let directory = temporaryDirectory("shape")
        defer { try? FileManager.default.removeItem(at: directory) }
        // A manifest that claims a wider policy than the tensors hold.
        var wrong = checkpoint(hidden: [4])
        wrong.manifest.policy = .gaussian(GaussianMLPPolicy(observationSize: 2, actionSize: 2, hidden: [8], activation: .tanh))
        try wrong.save(in: directory)
        #expect {
            try Checkpoint.load(from: directory)
        } throws: { error in
            guard case RunError.incompatibleCheckpoint(_, let reason) = error else { return false }
            return reason.contains("shape [2, 4]") && reason.contains("needs [2, 8]")
        }
    }

    /// A process killed between the two renames of `save` leaves the parameters of iteration 8
    /// beside the manifest of iteration 7: the parameters file carries its own manifest, so the
    /// checkpoint loads whole, at iteration 8.
    @Test func aSaveInterruptedBetweenItsTwoFilesLoadsTheNewerCheckpointWhole() throws {
        let directory = temporaryDirectory("between")
        defer { try? FileManager.default.removeItem(at: directory) }
        try checkpoint().save(in: directory)
        let olderManifest = try Data(contentsOf: directory.appendingPathComponent("checkpoint.json"))
        var newer = checkpoint()
        newer.manifest.iteration = 8
        newer.parameters = newer.parameters.map { $0 + 1 }
        try newer.save(in: directory)
        try olderManifest.write(to: directory.appendingPathComponent("checkpoint.json"))
        let loaded = try Checkpoint.load(from: directory)
        #expect(loaded.manifest.iteration == 8)
        #expect(loaded.parameters.map(\.scalars) == newer.parameters.map(\.scalars))
    }

    @Test func mismatchedOrMissingFilesAreReported() throws {
        let directory = temporaryDirectory("mismatch")
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = checkpoint()
        try saved.save(in: directory)
        // A parameters file of the first format (no manifest inside) must agree with checkpoint.json.
        let names = saved.manifest.policyDescription.parameterNames
        try Safetensors.encode(Array(zip(names, saved.parameters)).map { (name: $0.0, tensor: $0.1) },
                               metadata: ["iteration": "6", "format": "metarl-checkpoint"])
            .write(to: directory.appendingPathComponent("checkpoint.safetensors"))
        #expect { try Checkpoint.load(from: directory) } throws: { "\($0)".contains("holds iteration 6, the manifest says 7") }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("checkpoint.safetensors"))
        #expect(throws: RunError.missingFile(path: directory.appendingPathComponent("checkpoint.safetensors").path)) {
            try Checkpoint.load(from: directory)
        }
        try saved.save(in: directory)
        try "{}".write(to: directory.appendingPathComponent("checkpoint.json"), atomically: true, encoding: .utf8)
        #expect(try Checkpoint.load(from: directory).manifest == saved.manifest)   // the parameters file's copy
        try Safetensors.encode([], metadata: ["iteration": "7", "manifest": "{}"]).write(to: directory.appendingPathComponent("checkpoint.safetensors"))
        #expect(throws: RunError.self) { try Checkpoint.load(from: directory) }
    }
}

@Suite("Run configuration")
final class ConfigurationTests {
    /// One folder per test, removed when the test ends.
    let directory = temporaryDirectory("config")

    deinit { try? FileManager.default.removeItem(at: directory) }

    func write(_ text: String) throws -> URL {
        let url = directory.appendingPathComponent("run.toml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func aPartialFileKeepsTheDefaults() throws {
        let c = try TrainingConfiguration.load(file: try write("iterations = 7\nhidden = [32]\n[maml]\nmaxKL = 0.02\n"))
        var expected = TrainingConfiguration()
        expected.iterations = 7
        expected.hidden = [32]
        expected.maml.maxKL = 0.02
        #expect(c == expected)
    }

    /// The shipped paper configuration reads back as the MAML paper's settings.
    @Test func thePaperConfigurationHasThePapersSettings() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try TrainingConfiguration.load(file: root.appendingPathComponent("configs/maml-paper-navigation.toml"))
        var expected = TrainingConfiguration()
        expected.spec = "navigation-normalized"
        expected.iterations = 100
        expected.hidden = [100, 100]
        expected.activation = .relu
        expected.maml.innerStepSize = 0.5
        expected.maml.stepWeighting = .step
        expected.threads = c.threads
        #expect(c == expected)
        #expect(throws: Never.self) { try c.validate() }
    }

    /// A checkpoint's JSON written before `stepWeighting` existed still loads, with the default.
    @Test func savedHyperparametersMissingAKeyKeepItsDefault() throws {
        let json = #"{"innerStepSize": 0.5, "maxKL": 0.02}"#
        let h = try JSONDecoder().decode(MAMLTRPO.Hyperparameters.self, from: Data(json.utf8))
        var expected = MAMLTRPO.Hyperparameters()
        expected.innerStepSize = 0.5
        expected.maxKL = 0.02
        #expect(h == expected && h.stepWeighting == .episode)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(MAMLTRPO.Hyperparameters.self, from: Data(#"{"stepWeighting": "trajectory"}"#.utf8))
        }
    }

    @Test func theWrittenConfigurationReadsBackEqual() throws {
        var c = TrainingConfiguration()
        c.seed = 42
        c.maml.innerSteps = 3
        #expect(try TrainingConfiguration.load(file: try write(try c.tomlText())) == c)
    }

    @Test func unknownKeysAndWrongTypesNameTheKey() throws {
        #expect { try TrainingConfiguration.load(file: try write("[maml]\nmax_kl = 0.1\n")) } throws: {
            "\($0)".contains("unknown key `maml.max_kl`")
        }
        #expect { try TrainingConfiguration.load(file: try write("iteration = 5\n")) } throws: {
            "\($0)".hasSuffix("unknown key `iteration` (did you mean `iterations`?)")
        }
        #expect { try TrainingConfiguration.load(file: try write("iterations = \"many\"\n")) } throws: {
            "\($0)".contains("key `iterations`")
        }
    }

    /// A key at the wrong level is pointed to where it belongs.
    @Test func aKeyAtTheWrongLevelSaysWhereItBelongs() throws {
        #expect { try TrainingConfiguration.load(file: try write("innerStepSize = 0.2\n")) } throws: {
            "\($0)".hasSuffix("unknown key `innerStepSize` (`innerStepSize` belongs under [maml])")
        }
        #expect { try TrainingConfiguration.load(file: try write("[maml]\nseed = 3\n")) } throws: {
            "\($0)".contains("`seed` belongs at the top level")
        }
        // An integer where a number is expected is that number.
        #expect(try TrainingConfiguration.load(file: try write("[maml]\ninnerStepSize = 1\n")).maml.innerStepSize == 1)
    }

    /// A relative spec path in a settings file is read from the file's folder, wherever the
    /// command runs; a preset name stays a name.
    @Test func aRelativeSpecPathIsTakenFromTheSettingsFilesFolder() throws {
        let (c, keys) = try TrainingConfiguration.loadGivenKeys(file: try write("spec = \"specs/mine.toml\"\n"))
        #expect(c.spec == directory.appendingPathComponent("specs/mine.toml").standardizedFileURL.path)
        #expect(keys == ["spec"])
        #expect(try TrainingConfiguration.load(file: try write("spec = \"navigation\"\n")).spec == "navigation")
        #expect(try TrainingConfiguration.loadGivenKeys(file: try write("iterations = 3\n")).keys == ["iterations"])
    }

    @Test func impossibleValuesAreRejected() {
        var c = TrainingConfiguration()
        c.metaBatchSize = 0
        #expect(throws: RunError.invalidConfiguration(key: "meta-batch-size", reason: "needs 1…1000000 tasks, got 0")) { try c.validate() }
        c = TrainingConfiguration()
        c.activation = .tanh
        c.maml.backtrackRatio = 1
        #expect(throws: RunError.self) { try c.validate() }
    }

    /// Non-finite values used to pass `> 0` checks (inf) or trap later; each is refused by name.
    @Test(arguments: [Double.nan, .infinity, -.infinity])
    func nonFiniteNumbersAreRefusedByName(value: Double) {
        let setters: [(String, (inout TrainingConfiguration) -> Void)] = [
            ("fast-lr", { $0.maml.innerStepSize = value }), ("max-kl", { $0.maml.maxKL = value }),
            ("discount", { $0.maml.discount = value }), ("gae-lambda", { $0.maml.gaeLambda = value }),
            ("cg-damping", { $0.maml.conjugateGradientDamping = value }),
            ("ls-backtrack-ratio", { $0.maml.backtrackRatio = value }),
        ]
        for (key, set) in setters {
            var c = TrainingConfiguration()
            set(&c)
            #expect(throws: RunError.invalidConfiguration(key: key, reason: "must be a finite number, got \(value)")) { try c.validate() }
        }
    }

    /// `--hidden 100000,100000` used to abort allocating 40 GB; the estimate refuses it first.
    @Test func aRunLargerThanTheMachineIsRefusedBeforeItStarts() throws {
        var c = TrainingConfiguration()
        c.hidden = [100_000, 100_000]
        #expect { try c.checkMemory(for: AnyEnvironmentFamily(PointRobotFamily.navigation), available: 24e9) } throws: { error in
            guard case RunError.invalidConfiguration("hidden", let reason) = error else { return false }
            return reason.contains("more than this machine's 24.0 GB")
        }
        c = TrainingConfiguration()
        c.fastBatchSize = 100_000
        #expect { try c.checkMemory(for: AnyEnvironmentFamily(PointRobotFamily.navigation), available: 24e9) } throws: { error in
            guard case RunError.invalidConfiguration("meta-batch-size", _) = error else { return false }
            return true
        }
        // The defaults need about a tenth of a gigabyte.
        let need = TrainingConfiguration().estimatedMemory(for: AnyEnvironmentFamily(PointRobotFamily.navigation)).bytes
        #expect(need > 0.05e9 && need < 0.3e9, "\(need) bytes")
        try TrainingConfiguration().checkMemory(for: AnyEnvironmentFamily(PointRobotFamily.navigation), available: 24e9)
    }
}
