import Autodiff
import Environments
@testable import Experiments
import Foundation
import MetaLearning
import Testing

/// What a run records beside its checkpoint: the totals and policy figures of `progress.csv`,
/// held-out evaluations in `eval.csv`, kept checkpoints, `metadata.json`, and the TensorBoard
/// file's framing (its content is read back by TensorBoard itself in `scripts/check-tensorboard.py`).
@Suite("Run records")
struct RunRecordTests {
    func table(_ directory: URL, _ file: String) throws -> [[String: String]] {
        let lines = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
        let header = lines[0].split(separator: ",").map(String.init)
        return lines.dropFirst().map { line in
            Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    @Test("progress.csv counts environment steps and reports the policy's entropy, σ and the pre-update KL")
    func progressRecordsTotalsAndPolicyFigures() throws {
        let directory = temporaryDirectory("totals")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (c, spec) = TrainingRunTests.smallRun(iterations: 3)
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        var reports: [IterationReport] = []
        try run.run { reports.append($0) }
        let rows = try table(directory, "progress.csv")
        // 3 tasks × 3 episodes × 15 steps, before and after one inner step: 270 per iteration.
        #expect(reports.map(\.environmentSteps) == [270, 270, 270])
        #expect(rows.map { $0["environment_steps"] } == ["270", "540", "810"])
        #expect(try Checkpoint.load(from: directory).manifest.environmentSteps == 810)
        let sigma = rows.map { Double($0["policy/std"]!)! }
        let entropy = rows.map { Double($0["policy/entropy"]!)! }
        // A 2-D Gaussian with σ = 1 at the start: entropy = 2 · ½(1 + log 2π) ≈ 2.8379, σ = 1.
        #expect(abs(sigma[0] - 1) < 1e-9)
        #expect(abs(entropy[0] - (1 + Double.log(2 * Double.pi))) < 1e-5)
        let kl = rows.map { Double($0["kl/before"]!)! }
        #expect(kl.allSatisfy { $0 > 0 && $0 < 1 })   // the pre-update policy moved, a little
        let elapsed = rows.map { Double($0["time/elapsed"]!)! }
        #expect(zip(elapsed, elapsed.dropFirst()).allSatisfy { $0 < $1 })
        #expect(rows.allSatisfy { Double($0["time/wall"]!)! > 1.7e9 })
    }

    @Test("A policy's entropy and KL match their closed forms")
    func policyStatisticsMatchClosedForms() throws {
        let policy = Policy.forActions(.discrete(count: 4), observationSize: 3, hidden: [5], activation: .tanh)
        var rng = RandomStream.derive(seed: 501, purpose: .testFixture)
        let theta = policy.initialParameters(as: Float.self, using: &rng)
        let moved = theta.map { t in Tensor(shape: t.shape, scalars: t.scalars.map { $0 + Float.random(in: -0.3...0.3, using: &rng) }) }
        var batch = EpisodeBatch(observationSize: 3, actionSize: 1)
        let observations = (0..<12).map { _ in Float.random(in: -1...1, using: &rng) }
        batch.append(observations: observations, actions: [0, 1, 2, 3], rewards: [0, 0, 0, 0], finalObservation: [0, 0, 0],
                     environmentSeed: 0)
        let metrics = PolicyStatistics.metrics(policy: policy, before: theta, after: moved, batches: [batch], threads: 1)
        #expect(metrics.map(\.name) == PolicyStatistics.columns(for: policy))
        // By hand, in Double: H = −Σ p log p and KL(p‖q) = Σ p (log p − log q), averaged over the rows.
        let x = Tensor(shape: [4, 3], scalars: observations.map(Double.init))
        let p = policy.distribution(x, parameters: theta.map { Tensor(shape: $0.shape, scalars: $0.scalars.map(Double.init)) })
        let q = policy.distribution(x, parameters: moved.map { Tensor(shape: $0.shape, scalars: $0.scalars.map(Double.init)) })
        guard case .categorical(let lp) = p, case .categorical(let lq) = q else { Issue.record("not categorical"); return }
        var entropy = 0.0, kl = 0.0
        for i in 0..<16 {
            entropy -= Double.exp(lp.scalars[i]) * lp.scalars[i]
            kl += Double.exp(lp.scalars[i]) * (lp.scalars[i] - lq.scalars[i])
        }
        #expect(abs(metrics[0].value - entropy / 4) < 1e-5)
        #expect(abs(metrics[1].value - kl / 4) < 1e-6)
        #expect(kl > 1e-4)
        let still = PolicyStatistics.metrics(policy: policy, before: theta, after: theta, batches: [batch], threads: 1)
        #expect(still[1].value == 0)
    }

    @Test("Held-out evaluations every N iterations and kept checkpoints resume exactly")
    func evaluationsAndKeptCheckpointsResume() throws {
        let straight = temporaryDirectory("eval-straight"), resumed = temporaryDirectory("eval-resumed")
        defer { [straight, resumed].forEach { try? FileManager.default.removeItem(at: $0) } }
        var (c, spec) = TrainingRunTests.smallRun(iterations: 4)
        c.evalEvery = 2
        c.evalTasks = 3
        c.keepEvery = 2
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: straight)
        try run.run()
        let rows = try table(straight, "eval.csv")
        // Before training, after 2 and after 4 iterations; steps 0 and 1 of each (one inner step).
        #expect(rows.map { "\($0["iteration"]!):\($0["step"]!)" } == ["0:0", "0:1", "2:0", "2:1", "4:0", "4:1"])
        #expect(rows.map { $0["environment_steps"]! } == ["0", "0", "540", "540", "1080", "1080"])
        #expect(Checkpoint.keptIterations(in: straight) == [2, 4])
        let kept = try Checkpoint.load(from: straight, iteration: 2)
        #expect(kept.manifest.iteration == 2)
        #expect(throws: RunError.missingCheckpoint(run: straight.relativePath, iteration: 3, available: [2, 4])) {
            try Checkpoint.load(from: straight, iteration: 3)
        }
        // The evaluation of iteration 2 is the one `metarl eval` makes of the kept checkpoint.
        let trainer = try MetaTrainer(configuration: c, family: spec.family, parameters: kept.parameters,
                                      learnerState: kept.learnerState, iteration: 2)
        let again = try trainer.evaluateHeldOut(taskCount: 3)
        #expect(again.map { "\($0.meanReturn)" } == rows.filter { $0["iteration"] == "2" }.map { $0["mean_return"]! })

        var shorter = c
        shorter.iterations = 3
        var first = try TrainingRun.start(configuration: shorter, spec: spec, directory: resumed)
        try first.run()
        var second = try TrainingRun.resume(directory: resumed, iterations: 4)
        try second.run()
        let helper = TrainingRunTests()
        #expect(try helper.columnsWithoutTimes(straight, file: "eval.csv") == helper.columnsWithoutTimes(resumed, file: "eval.csv"))
        #expect(try helper.columnsWithoutTimes(straight) == helper.columnsWithoutTimes(resumed))
        #expect(try Checkpoint.load(from: resumed, iteration: 2).parameters.map(\.scalars) == kept.parameters.map(\.scalars))
        // Two sessions, the second from iteration 3.
        let metadata = try JSONDecoder().decode(RunMetadata.self, from: Data(contentsOf: resumed.appendingPathComponent(RunMetadata.fileName)))
        #expect(metadata.sessions.map(\.fromIteration) == [0, 3])
        #expect(metadata.sessions.allSatisfy { $0.machine.cores >= 1 && !$0.machine.blasCore.isEmpty && $0.metarlVersion == RunMetadata.version })
    }

    @Test("A progress.csv of other columns is carried over by column name when a run resumes")
    func resumingMigratesAnOlderHeader() throws {
        let directory = temporaryDirectory("migrate")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (c, spec) = TrainingRunTests.smallRun(iterations: 2)
        var run = try TrainingRun.start(configuration: c, spec: spec, directory: directory)
        try run.run()
        let url = directory.appendingPathComponent(ProgressLog.fileName)
        let original = try table(directory, ProgressLog.fileName)
        // As an earlier MetaRL wrote it: no entropy column, and the returns in the other order.
        let oldColumns = ["iteration", "returns/after", "returns/before", "kl/after", "time/iteration"]
        let text = ([oldColumns.joined(separator: ",")] + original.map { row in oldColumns.map { row[$0]! }.joined(separator: ",") })
            .joined(separator: "\n") + "\n"
        try text.write(to: url, atomically: true, encoding: .utf8)
        var resumed = try TrainingRun.resume(directory: directory, iterations: 3)
        try resumed.run()
        let rows = try table(directory, ProgressLog.fileName)
        #expect(rows.count == 3)
        for (old, new) in zip(original, rows) {
            #expect(new["returns/before"] == old["returns/before"] && new["returns/after"] == old["returns/after"])
            #expect(new["kl/after"] == old["kl/after"])
            #expect(new["policy/entropy"] == "")   // the old file did not have it
        }
        #expect(rows[2]["policy/entropy"].flatMap(Double.init) != nil)
    }

    @Test("CRC-32C and TFRecord framing are TensorFlow's")
    func recordFraming() {
        // The check value of CRC-32C, and the masking of TensorFlow's crc32c.h.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        let crc = CRC32C.checksum([UInt8]())
        #expect(CRC32C.masked([UInt8]()) == ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8)
        let data: [UInt8] = [1, 2, 3, 250]
        let record = TensorBoardEvents.record(data)
        #expect(record.count == 8 + 4 + 4 + 4)
        #expect(Array(record[0..<8]) == [4, 0, 0, 0, 0, 0, 0, 0])
        let lengthCRC = UInt32(record[8]) | UInt32(record[9]) << 8 | UInt32(record[10]) << 16 | UInt32(record[11]) << 24
        #expect(lengthCRC == CRC32C.masked(Array(record[0..<8])))
        #expect(Array(record[12..<16]) == data)
        // A scalar event: wall_time (field 1, fixed64), step (2, varint), summary (5) → value (1) → tag (1), simple_value (2).
        let event = TensorBoardEvents.scalarsRecord(step: 300, wallTime: 0, scalars: [(tag: "a", value: 1)])
        let body = Array(event[12..<(event.count - 4)])
        #expect(body == [0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0xAC, 0x02, 0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0, 0, 0x80, 0x3F])
    }

    @Test("NumPy arrays: a header NumPy parses, padded to 64 bytes; a zip of stored entries with their CRC-32")
    func numPyArchive() throws {
        let npy = NumPyArchive.npy(descr: "<f4", shape: [2, 3], body: [UInt8](repeating: 7, count: 24))
        #expect(Array(npy[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(npy[8]) | Int(npy[9]) << 8
        #expect((10 + headerLength) % 64 == 0 && npy.count == 10 + headerLength + 24)
        let header = String(decoding: npy[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }") && header.hasSuffix(" \n"))
        #expect(String(decoding: NumPyArchive.npy(descr: "<i4", shape: [5], body: [])[10...], as: UTF8.self).contains("'shape': (5,)"))
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)   // the CRC-32 check value

        var archive = NumPyArchive()
        archive.add("a", float32: [1, 2], shape: [2])
        archive.add("name", strings: ["é", "xy"], shape: [2])
        let bytes = [UInt8](try archive.encoded(path: "test.npz"))
        func u32(_ i: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[i + $1]) << (8 * $1) } }
        func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
        #expect(u32(0) == 0x0403_4B50)
        let end = bytes.count - 22
        #expect(u32(end) == 0x0605_4B50 && u16(end + 10) == 2)
        // The first entry: stored, its CRC over exactly its data, the name "a.npy".
        let nameLength = u16(26), size = Int(u32(18))
        #expect(u16(8) == 0 && String(decoding: bytes[30..<(30 + nameLength)], as: UTF8.self) == "a.npy")
        let data = Array(bytes[(30 + nameLength)..<(30 + nameLength + size)])
        #expect(u32(14) == CRC32.checksum(data))
        // Two float32s, little-endian, after the header.
        #expect(Array(data.suffix(8)) == [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
    }
}
