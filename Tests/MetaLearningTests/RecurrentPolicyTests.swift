import Autodiff
import Foundation
import Environments
@testable import MetaLearning
import TestSupport
import Testing

/// The GRU's backpropagation through time and RL²'s PPO gradient against central finite
/// differences in Double, and the rules of a trial: the state starts at zero, carries across the
/// episodes of a trial, and the inputs mark where each episode begins.
@Suite("Recurrent policies and RL²")
struct RecurrentPolicyTests {
    static func randomArray(_ count: Int, _ rng: inout SplitMix64, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in Double.random(in: -scale...scale, using: &rng) }
    }

    static func centralDifference(_ f: (Double) -> Double, step: Double = 1e-6) -> Double {
        (f(step) - f(-step)) / (2 * step)
    }

    static func agree(_ analytic: Double, _ numerical: Double, absolute: Double = 1e-7, relative: Double = 1e-5) -> Bool {
        abs(analytic - numerical) <= absolute + relative * max(abs(analytic), abs(numerical))
    }

    @Test("BPTT gives every gate's weights, h₀ and the inputs their central-difference gradient")
    func gruGradientMatchesFiniteDifferences() {
        let cell = GRUCell(inputSize: 3, hiddenSize: 4)
        var rng = testGenerator(170)
        let steps = 5, batch = 2
        let params = cell.initialParameters(as: Double.self, using: &rng).map { t in
            Tensor(shape: t.shape, scalars: t.scalars.map { $0 * 2 })   // larger weights: every gate away from linear
        }
        let inputs = Self.randomArray(steps * batch * 3, &rng)
        let h0 = Self.randomArray(batch * 4, &rng, scale: 0.8)
        let upstream = Self.randomArray(steps * batch * 4, &rng)
        func loss(_ p: [Tensor<Double>], _ x: [Double], _ h: [Double]) -> Double {
            let trace = cell.forward(x, steps: steps, batch: batch, initial: h, weights: .init(p[0..<4]))
            return zip(trace.hidden.dropFirst(batch * 4), upstream).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let trace = cell.forward(inputs, steps: steps, batch: batch, initial: h0, weights: .init(params[0..<4]))
        let grads = cell.backward(trace, inputs: inputs, hiddenGradients: upstream, weights: .init(params[0..<4]), inputGradients: true)
        var compared = 0
        for (i, tensor) in params.enumerated() {
            for e in 0..<tensor.count {
                let numerical = Self.centralDifference { d in
                    var p = params
                    var s = p[i].scalars
                    s[e] += d
                    p[i] = Tensor(shape: tensor.shape, scalars: s)
                    return loss(p, inputs, h0)
                }
                #expect(Self.agree(grads.parameters[i][e], numerical), "\(GRUCell.parameterNames[i])[\(e)]: \(grads.parameters[i][e]) vs \(numerical)")
                compared += 1
            }
        }
        for e in h0.indices {
            let numerical = Self.centralDifference { d in var h = h0; h[e] += d; return loss(params, inputs, h) }
            #expect(Self.agree(grads.initialHidden[e], numerical), "h₀[\(e)]")
        }
        let dx = grads.inputs ?? []
        for e in inputs.indices {
            let numerical = Self.centralDifference { d in var x = inputs; x[e] += d; return loss(params, x, h0) }
            #expect(Self.agree(dx[e], numerical), "x[\(e)]")
        }
        #expect(compared == 3 * 12 + 4 * 12 + 12 + 12)
    }

    @Test("LSTM BPTT gives every gate's weights, h₀, c₀ and the inputs their central-difference gradient")
    func lstmGradientMatchesFiniteDifferences() {
        let cell = LSTMCell(inputSize: 3, hiddenSize: 4)
        var rng = testGenerator(177)
        let steps = 5, batch = 2
        let params = cell.initialParameters(as: Double.self, using: &rng).map { t in
            Tensor(shape: t.shape, scalars: t.scalars.map { $0 * 2 })
        }
        let inputs = Self.randomArray(steps * batch * 3, &rng)
        let h0 = Self.randomArray(batch * 4, &rng, scale: 0.8), c0 = Self.randomArray(batch * 4, &rng, scale: 1.5)
        let upstream = Self.randomArray(steps * batch * 4, &rng)
        func loss(_ p: [Tensor<Double>], _ x: [Double], _ h: [Double], _ c: [Double]) -> Double {
            let trace = cell.forward(x, steps: steps, batch: batch, initialHidden: h, initialCell: c, weights: .init(p[0..<4]))
            return zip(trace.hidden.dropFirst(batch * 4), upstream).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let trace = cell.forward(inputs, steps: steps, batch: batch, initialHidden: h0, initialCell: c0, weights: .init(params[0..<4]))
        let grads = cell.backward(trace, inputs: inputs, hiddenGradients: upstream, weights: .init(params[0..<4]), inputGradients: true)
        for (i, tensor) in params.enumerated() {
            for e in 0..<tensor.count {
                let numerical = Self.centralDifference { d in
                    var p = params
                    var s = p[i].scalars
                    s[e] += d
                    p[i] = Tensor(shape: tensor.shape, scalars: s)
                    return loss(p, inputs, h0, c0)
                }
                #expect(Self.agree(grads.parameters[i][e], numerical), "\(LSTMCell.parameterNames[i])[\(e)]: \(grads.parameters[i][e]) vs \(numerical)")
            }
        }
        for e in h0.indices {
            let dh = Self.centralDifference { d in var h = h0; h[e] += d; return loss(params, inputs, h, c0) }
            #expect(Self.agree(grads.initialHidden[e], dh), "h₀[\(e)]")
            let dc = Self.centralDifference { d in var c = c0; c[e] += d; return loss(params, inputs, h0, c) }
            #expect(Self.agree(grads.initialCell[e], dc), "c₀[\(e)]")
        }
        let dx = grads.inputs ?? []
        for e in inputs.indices {
            let numerical = Self.centralDifference { d in var x = inputs; x[e] += d; return loss(params, x, h0, c0) }
            #expect(Self.agree(dx[e], numerical), "x[\(e)]")
        }
    }

    @Test("One LSTM step is PyTorch's: c' = f⊙c + i⊙g, h' = o⊙tanh(c'), gates in the order i, f, g, o")
    func lstmStepMatchesTheDefinition() {
        let cell = LSTMCell(inputSize: 2, hiddenSize: 3)
        var rng = testGenerator(178)
        let p = cell.initialParameters(as: Double.self, using: &rng).map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 * 3 }) }
        let x = [0.7, -1.3], h = [0.2, -0.5, 0.9], c = [1.1, -0.4, 0.3]
        let (wx, wh, bx, bh) = (p[0].scalars, p[1].scalars, p[2].scalars, p[3].scalars)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Double.exp(-v)) }
        var expectedH = [Double](repeating: 0, count: 3), expectedC = expectedH
        for j in 0..<3 {
            func pre(_ gate: Int) -> Double {
                bx[gate * 3 + j] + bh[gate * 3 + j] + (0..<2).reduce(0) { $0 + x[$1] * wx[$1 * 12 + gate * 3 + j] }
                    + (0..<3).reduce(0) { $0 + h[$1] * wh[$1 * 12 + gate * 3 + j] }
            }
            let i = sigmoid(pre(0)), f = sigmoid(pre(1)), g = Double.tanh(pre(2)), o = sigmoid(pre(3))
            expectedC[j] = f * c[j] + i * g
            expectedH[j] = o * Double.tanh(expectedC[j])
        }
        var hidden = h, state = c
        cell.step(x, batch: 1, hidden: &hidden, cell: &state, weights: .init(p[0..<4]))
        for j in 0..<3 {
            #expect(abs(hidden[j] - expectedH[j]) < 1e-12, "h'[\(j)]")
            #expect(abs(state[j] - expectedC[j]) < 1e-12, "c'[\(j)]")
        }
    }

    @Test("One step is PyTorch's GRU: the reset gate scales h W_hn + b_hn, z keeps the old state")
    func gruStepMatchesTheDefinition() {
        let cell = GRUCell(inputSize: 2, hiddenSize: 3)
        var rng = testGenerator(171)
        let p = cell.initialParameters(as: Double.self, using: &rng).map { Tensor(shape: $0.shape, scalars: $0.scalars.map { $0 * 3 }) }
        let x = [0.7, -1.3], h = [0.2, -0.5, 0.9]
        let (wx, wh, bx, bh) = (p[0].scalars, p[1].scalars, p[2].scalars, p[3].scalars)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Double.exp(-v)) }
        var expected = [Double](repeating: 0, count: 3)
        for j in 0..<3 {
            func gx(_ gate: Int) -> Double { bx[gate * 3 + j] + (0..<2).reduce(0) { $0 + x[$1] * wx[$1 * 9 + gate * 3 + j] } }
            func gh(_ gate: Int) -> Double { bh[gate * 3 + j] + (0..<3).reduce(0) { $0 + h[$1] * wh[$1 * 9 + gate * 3 + j] } }
            let r = sigmoid(gx(0) + gh(0)), z = sigmoid(gx(1) + gh(1))
            let n = Double.tanh(gx(2) + r * gh(2))
            expected[j] = (1 - z) * n + z * h[j]
        }
        var hidden = h
        var buffers = GRUCell.StepBuffers<Double>(cell: cell, batch: 1)
        cell.step(x, batch: 1, hidden: &hidden, weights: .init(p[0..<4]), buffers: &buffers)
        for j in 0..<3 { #expect(abs(hidden[j] - expected[j]) < 1e-12, "h'[\(j)] = \(hidden[j]), expected \(expected[j])") }
        let trace = cell.forward(x, steps: 1, batch: 1, initial: h, weights: .init(p[0..<4]))
        for j in 0..<3 { #expect(abs(trace.hidden[3 + j] - expected[j]) < 1e-12) }
    }

    /// Trials of GridNavi (4 episodes each) sampled with a recurrent policy.
    static func gridNaviTrials(count: Int, hiddenSize: Int = 6, cellKind: RecurrentPolicy.CellKind = .gru) throws
        -> (RecurrentPolicy, [Tensor<Float>], [Trial]) {
        let spec = try EnvironmentSpec.load("gridnavi-5x5")
        let family = try #require(spec.family.base as? GridworldFamily)
        let batch = family.makeBatch(count: count, autoreset: .disabled)
        let policy = RecurrentPolicy.forActions(batch.actionSpace, observationSize: batch.observationSize, hiddenSize: hiddenSize,
                                                cellKind: cellKind)
        var rng = testGenerator(172)
        // A policy far from uniform, so that actions and the state vary.
        let parameters = policy.initialParameters(as: Float.self, using: &rng).map { t in
            Tensor(shape: t.shape, scalars: t.scalars.map { $0 + Float.random(in: -0.5...0.5, using: &rng) })
        }
        let tasks = family.sampleTasks(count: count, using: &rng)
        var streams = (0..<count).map { testGenerator(200 + $0) }
        let trials = TrialSampler(environment: batch, policy: policy).sample(tasks: tasks, parameters: parameters, streams: &streams)
        return (policy, parameters, trials)
    }

    @Test("A trial's state starts at zero and carries across its episodes; the inputs mark each new episode",
          arguments: RecurrentPolicy.CellKind.allCases)
    func trialsCarryTheStateAcrossEpisodes(cellKind: RecurrentPolicy.CellKind) throws {
        let (policy, parameters, trials) = try Self.gridNaviTrials(count: 3, cellKind: cellKind)
        let f = policy.featureSize, o = policy.observationSize
        for trial in trials {
            #expect(trial.length == 60)
            #expect(trial.episodeCount == 4)
            #expect(trial.episodeReturns.count == 4)
            // The flag is 1 exactly at steps 15, 30, 45; the previous reward and action are the step before's.
            for t in 0..<trial.length {
                let row = Array(trial.features[(t * f)..<((t + 1) * f)])
                #expect(row[f - 1] == ((t > 0 && t % 15 == 0) ? 1 : 0), "new-episode flag at step \(t)")
                #expect(row[f - 2] == (t == 0 ? 0 : trial.rewards[t - 1]), "previous reward at step \(t)")
                let oneHot = Array(row[o..<(o + 5)])
                #expect(oneHot == (t == 0 ? [0, 0, 0, 0, 0] : (0..<5).map { $0 == Int(trial.actions[t - 1]) ? 1 : 0 }))
                #expect(Int(trial.episodes[t]) == t / 15)
            }
            // Episode 2 starts where the trial started: the agent is back at (0, 0).
            #expect(Array(trial.features[(15 * f)..<(15 * f + o)]) == Array(trial.features[0..<o]))
        }
        // The values recorded while sampling are those of one unbroken pass from h₀ = 0 …
        let trial = trials[0]
        let trace = policy.run(trial.features, steps: trial.length, batch: 1, parameters: parameters)
        let (_, values) = trace.hidden.withUnsafeBufferPointer {
            policy.heads(UnsafeBufferPointer(rebasing: $0[policy.hiddenSize...]), rows: trial.length, parameters: parameters)
        }
        for t in 0..<trial.length { #expect(abs(values[t] - trial.values[t]) < 1e-4, "value at step \(t)") }
        // … and not of a pass that forgets at each episode.
        let second = Array(trial.features[(15 * f)...])
        let restarted = policy.run(second, steps: trial.length - 15, batch: 1, parameters: parameters)
        let (_, forgetful) = restarted.hidden.withUnsafeBufferPointer {
            policy.heads(UnsafeBufferPointer(rebasing: $0[policy.hiddenSize...]), rows: 1, parameters: parameters)
        }
        #expect(abs(forgetful[0] - trial.values[15]) > 1e-4)
    }

    @Test("GAE runs across the episodes of a trial and stops at its end")
    func advantagesRunAcrossEpisodeBoundaries() {
        let rewards: [Float] = [1, 0, 2], values: [Float] = [0.5, 0.25, 1]
        let (gamma, lambda) = (0.9, 0.8)
        let (advantages, returns) = trialAdvantages(rewards: rewards, values: values, discount: gamma, lambda: lambda)
        let d2 = 2 - 1.0, d1 = 0 + gamma * 1 - 0.25, d0 = 1 + gamma * 0.25 - 0.5
        let a2 = d2, a1 = d1 + gamma * lambda * a2, a0 = d0 + gamma * lambda * a1
        #expect(abs(Double(advantages[2]) - a2) < 1e-6)
        #expect(abs(Double(advantages[1]) - a1) < 1e-6)
        #expect(abs(Double(advantages[0]) - a0) < 1e-6)
        #expect(abs(Double(returns[0]) - (a0 + 0.5)) < 1e-6)
    }

    /// RL²'s loss and gradient at parameters moved away from the sampling ones (ratios ≠ 1, some clipped).
    static func checkObjective(policy: RecurrentPolicy, sampled: [Tensor<Float>], trials: [Trial]) {
        var estimates = trials.map { trialAdvantages(rewards: $0.rewards, values: $0.values, discount: 0.95, lambda: 0.9) }
        for i in estimates.indices { estimates[i].advantages = estimates[i].advantages.map { $0 / 3 } }
        let sequences = TrialSequences<Double>(trials, indices: Array(trials.indices)[...], advantages: estimates.map(\.advantages),
                                               returns: estimates.map(\.returns))
        var rng = testGenerator(173)
        let point = sampled.map { t in
            Tensor<Double>(shape: t.shape, scalars: t.scalars.map { Double($0) + Double.random(in: -0.15...0.15, using: &rng) })
        }
        let objective = RL2Objective(policy: policy, clip: 0.2, valueCoefficient: 0.5, entropyCoefficient: 0.05)
        let weight = 1 / Double(sequences.stepCount)
        let (_, gradients, totals) = objective.lossAndGradient(sequences, parameters: point, weight: weight)
        #expect(totals.clipped > 0, "some ratios must be clipped for the check to cover the clip")
        #expect(totals.clipped < Double(sequences.stepCount))
        var worst = 0.0
        for (i, tensor) in point.enumerated() {
            for e in 0..<tensor.count {
                let numerical = centralDifference { d in
                    var p = point
                    var s = p[i].scalars
                    s[e] += d
                    p[i] = Tensor(shape: tensor.shape, scalars: s)
                    return objective.lossAndGradient(sequences, parameters: p, weight: weight).loss
                }
                let a = gradients[i][e]
                worst = max(worst, abs(a - numerical) / (1e-7 + 1e-5 * max(abs(a), abs(numerical))))
                #expect(agree(a, numerical), "\(policy.parameterNames[i])[\(e)]: analytic \(a), numerical \(numerical)")
            }
        }
        #expect(worst <= 1)
    }

    @Test("RL²'s PPO gradient (categorical head) matches central differences through the heads and time",
          arguments: RecurrentPolicy.CellKind.allCases)
    func categoricalObjectiveGradient(cellKind: RecurrentPolicy.CellKind) throws {
        let (policy, parameters, trials) = try Self.gridNaviTrials(count: 2, hiddenSize: 4, cellKind: cellKind)
        Self.checkObjective(policy: policy, sampled: parameters, trials: trials)
    }

    @Test("RL²'s PPO gradient (Gaussian head, log σ included) matches central differences")
    func gaussianObjectiveGradient() throws {
        let spec = try EnvironmentSpec.load("navigation")
        let family = try #require(spec.family.base as? PointRobotFamily)
        let batch = family.makeBatch(count: 2, autoreset: .disabled)
        let policy = RecurrentPolicy.forActions(batch.actionSpace, observationSize: batch.observationSize, hiddenSize: 4)
        var rng = testGenerator(174)
        let parameters = policy.initialParameters(as: Float.self, using: &rng).map { t in
            Tensor(shape: t.shape, scalars: t.scalars.map { $0 + Float.random(in: -0.3...0.3, using: &rng) })
        }
        let tasks = family.sampleTasks(count: 2, using: &rng)
        var streams = [testGenerator(210), testGenerator(211)]
        let trials = TrialSampler(environment: batch, policy: policy).sample(tasks: tasks, parameters: parameters, streams: &streams)
        // Short trials keep the check quick: the first 12 steps of each.
        let cut = trials.map { trial -> Trial in trial.prefix(12) }
        Self.checkObjective(policy: policy, sampled: parameters, trials: cut)
    }

    @Test("RL² updates θ, reports its columns, and restores Adam's moments and its update count exactly")
    func rl2UpdatesAndRestores() throws {
        let (policy, parameters, trials) = try Self.gridNaviTrials(count: 6)
        var settings = MetaLearnerSettings()
        settings.rl2.trialsPerBatch = 2
        let entry = try #require(MetaLearners.named("rl2"))
        #expect(entry.adaptsInMemory)
        func make() -> any TrialMetaLearner {
            var rng = testGenerator(175)   // the same minibatch order for every learner made here
            return entry.makeMemory(policy, settings, &rng)
        }
        var learner = make()
        let (updated, metrics) = try learner.update(parameters, trials: trials, threads: 2)
        #expect(metrics.map(\.name) == learner.metricColumns)
        #expect(metrics.allSatisfy { $0.value.isFinite })
        let moved = zip(parameters, updated).map { ($0 - $1).scalars.map(abs).max()! }.max()!
        #expect(moved > 0)
        // One thread gives the same step.
        var single = make()
        let (alone, _) = try single.update(parameters, trials: trials, threads: 1)
        #expect(zip(updated, alone).allSatisfy { $0.scalars == $1.scalars })
        var fresh = make()
        try fresh.restore(learner.state)
        #expect(zip(fresh.state, learner.state).allSatisfy { $0.name == $1.name && $0.tensor.scalars == $1.tensor.scalars })
        #expect(throws: LearnerStateError.self) {
            try fresh.restore(learner.state.filter { $0.name != "optimizer.adam.second_moment.3" })
        }
    }

    @Test("Running moments merged batch by batch equal those of the whole stream")
    func runningMomentsMergeBatches() {
        var rng = testGenerator(181)
        let values = (0..<1000).map { _ in Float(Double.random(in: -3...9, using: &rng)) }
        var moments = RunningMoments()
        for range in [0..<1, 1..<250, 250..<251, 251..<1000] { moments.add(Array(values[range])) }
        let mean = values.reduce(0.0) { $0 + Double($1) } / 1000
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / 1000
        #expect(moments.count == 1000)
        #expect(abs(Double(moments.mean) - mean) < 1e-5)
        #expect(abs(Double(moments.variance) - variance) < 1e-4 * variance)
    }

    @Test("With normalised rewards, RL²'s update does not depend on the rewards' scale; without, it does")
    func normalisedRewardsRemoveTheScale() throws {
        let (policy, parameters, trials) = try Self.gridNaviTrials(count: 4)
        let scaled = trials.map { trial in
            var t = trial
            t.rewards = t.rewards.map { $0 * 7 }
            return t
        }
        func step(_ trials: [Trial], normalising: Bool) throws -> (parameters: [Tensor<Float>], moments: RunningMoments) {
            var settings = RL2.Settings()
            settings.trialsPerBatch = 2
            settings.normalisesRewards = normalising
            var learner = RL2(policy: policy, settings: settings, shuffleSeed: 3)
            let updated = try learner.update(parameters, trials: trials, threads: 1).parameters
            return (updated, learner.returnMoments)
        }
        func largestGap(_ a: [Tensor<Float>], _ b: [Tensor<Float>]) -> Float {
            zip(a, b).map { ($0 - $1).scalars.map(abs).max()! }.max()!
        }
        let plain = try step(trials, normalising: true), large = try step(scaled, normalising: true)
        #expect(largestGap(plain.parameters, large.parameters) < 1e-5)
        #expect(abs(large.moments.variance / plain.moments.variance - 49) < 1e-3)
        #expect(plain.moments.count == Float(trials.reduce(0) { $0 + $1.length }))
        // The values stay on the scale they were sampled with, so unnormalised rewards ×7 change the step.
        let rawPlain = try step(trials, normalising: false), rawLarge = try step(scaled, normalising: false)
        #expect(largestGap(rawPlain.parameters, rawLarge.parameters) > 1e-4)
        // The moments are part of the learner's state and come back on restore.
        var settings = RL2.Settings()
        settings.normalisesRewards = true
        settings.trialsPerBatch = 2
        var learner = RL2(policy: policy, settings: settings, shuffleSeed: 3)
        _ = try learner.update(parameters, trials: trials, threads: 1)
        var fresh = RL2(policy: policy, settings: settings, shuffleSeed: 3)
        try fresh.restore(learner.state)
        #expect(fresh.returnMoments == learner.returnMoments)
    }

    @Test("A short RL² run on a two-goal corridor does better in the trial's second episode than its first")
    func rl2LearnsToUseTheFirstEpisode() throws {
        // A 5-cell corridor, the agent in the middle and the goal at one end or the other: the first
        // episode must look (4 steps reach one end, not both), the second can go straight there —
        // only a policy that remembers gains.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("metarl-corridor-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try ".....\n".write(to: folder.appendingPathComponent("corridor.txt"), atomically: true, encoding: .utf8)
        try """
            family = "gridworld"
            description = "two goals, one trial of two episodes"
            map = "corridor.txt"
            actions = "moves"
            start = [2, 0]
            goal = { choice = [[0, 0], [4, 0]] }
            horizon = 4
            episodes_per_trial = 2
            [reward]
            goal = 1.0
            goal_terminates = true
            """.write(to: folder.appendingPathComponent("corridor.toml"), atomically: true, encoding: .utf8)
        let spec = try EnvironmentSpec.load(file: folder.appendingPathComponent("corridor.toml"))
        let family = try #require(spec.family.base as? GridworldFamily)
        let batch = family.makeBatch(count: 16, autoreset: .disabled)
        let policy = RecurrentPolicy.forActions(batch.actionSpace, observationSize: batch.observationSize, hiddenSize: 16)
        var settings = RL2.Settings()
        settings.learningRate = 3e-3
        settings.clip = 0.2
        settings.entropyCoefficient = 0.05   // at 0.01 the first episode's direction freezes before the second is learnt
        settings.trialsPerBatch = 16
        var learner = RL2(policy: policy, settings: settings, shuffleSeed: 9)
        var rng = testGenerator(176)
        var theta = policy.initialParameters(as: Float.self, using: &rng)
        let sampler = TrialSampler(environment: batch, policy: policy)
        func trials(_ iteration: Int, count: Int) -> [Trial] {
            var taskRng = testGenerator(1000 + iteration)
            let tasks = family.sampleTasks(count: count, using: &taskRng)
            var streams = (0..<count).map { testGenerator(5000 + iteration * 64 + $0) }
            return stride(from: 0, to: count, by: 16).flatMap { start -> [Trial] in
                var s = Array(streams[start..<(start + 16)])
                defer { streams.replaceSubrange(start..<(start + 16), with: s) }
                return sampler.sample(tasks: Array(tasks[start..<(start + 16)]), parameters: theta, streams: &s)
            }
        }
        for iteration in 0..<200 {
            theta = try learner.update(theta, trials: trials(iteration, count: 32), threads: 2).parameters
        }
        let evaluation = trials(10_000, count: 64).map(\.episodeReturns)
        let first = evaluation.map { $0[0] }.reduce(0, +) / 64, second = evaluation.map { $0[1] }.reduce(0, +) / 64
        // A forgetful agent scores the same in both episodes (at most 0.5 + a lucky second look).
        #expect(second > first + 0.25 && second > 0.8, "episode 1 \(first), episode 2 \(second)")
    }
}
