#!/usr/bin/env python3
"""Checks that the derivative and learner tests can fail: deletes one term of one derivative at a
time, or breaks one piece of the gradient engine, the TRPO step, conjugate gradient, the losses,
advantages, baseline, log-probabilities or KLs; rebuilds, and runs the Autodiff and MetaLearning
tests, which must then fail. Works on a temporary clone of HEAD, so the checkout is never touched.

    python3 scripts/check-derivative-mutations.py              # about 10 s per mutation on 2 cores
    python3 scripts/check-derivative-mutations.py MetaLearning    # only those whose file or name has this

Each entry is (file, exact text, replacement, name); a text that no longer matches is reported, so
the list is kept in step with the code.
"""
import os, subprocess, sys, tempfile

A = "Sources/Autodiff/"
M = "Sources/MetaLearning/"
MUTATIONS = [
    (A+'Tensor+Arithmetic.swift', "[needed[0] ? g.summed(toShape: x[0].shape) : nil,\n             needed[1] ? g.summed(toShape: x[1].shape) : nil]", "[nil,\n             needed[1] ? g.summed(toShape: x[1].shape) : nil]", "add lhs"),
    (A+'Tensor+Arithmetic.swift', "[needed[0] ? g.summed(toShape: x[0].shape) : nil,\n             needed[1] ? g.summed(toShape: x[1].shape) : nil]", "[needed[0] ? g.summed(toShape: x[0].shape) : nil,\n             nil]", "add rhs"),
    (A+'Tensor+Arithmetic.swift', "needed[1] ? (-g).summed(toShape: x[1].shape) : nil]", "nil]", "subtract rhs"),
    (A+'Tensor+Arithmetic.swift', "[needed[0] ? (g * x[1]).summed(toShape: x[0].shape) : nil,", "[nil,", "multiply lhs"),
    (A+'Tensor+Arithmetic.swift', "needed[1] ? (g * x[0]).summed(toShape: x[1].shape) : nil]", "nil]", "multiply rhs"),
    (A+'Tensor+Arithmetic.swift', "[needed[0] ? (g / x[1]).summed(toShape: x[0].shape) : nil,", "[nil,", "divide lhs"),
    (A+'Tensor+Arithmetic.swift', "needed[1] ? (-(g * y) / x[1]).summed(toShape: x[1].shape) : nil]", "nil]", "divide rhs"),
    (A+'Tensor+Arithmetic.swift', "inputs: [x]) { g, _, _, _ in [-g] }", "inputs: [x]) { g, _, _, _ in [g] }", "negate sign"),
    (A+'Tensor+Elementwise.swift', "{ g, _, y, _ in [g * y] }", "{ g, _, y, _ in [g] }", "exp factor"),
    (A+'Tensor+Elementwise.swift', "{ g, x, _, _ in [g / x[0]] }", "{ g, x, _, _ in [g] }", "log factor"),
    (A+'Tensor+Elementwise.swift', "[needed[0] ? scaledProduct(x[0], x[1], u, scale: -2) : nil,", "[nil,", "tanh second derivative wrt y"),
    (A+'Tensor+Elementwise.swift', "needed[1] ? tanhPullback(output: x[0], upstream: u) : nil]", "nil]", "tanh pullback wrt upstream"),
    (A+'Tensor+Elementwise.swift', "{ g, _, y, _ in [g * y * (1 - y)] }", "{ g, _, y, _ in [g * y] }", "sigmoid (1-y) term"),
    (A+'Tensor+Elementwise.swift', "[nil, needed[1] ? reluPullback(input: x[0], upstream: u) : nil]", "[nil, nil]", "relu pullback wrt upstream"),
    (A+'Tensor+Elementwise.swift', "{ g, x, _, _ in [2 * x[0] * g] }", "{ g, x, _, _ in [x[0] * g] }", "square factor 2"),
    (A+'Tensor+Elementwise.swift', "{ g, _, y, _ in [g / (2 * y)] }", "{ g, _, y, _ in [g / y] }", "sqrt factor 2"),
    (A+'Tensor+Elementwise.swift', "[g * exponent * x[0].raised(to: exponent - 1)]", "[g * x[0].raised(to: exponent - 1)]", "power exponent factor"),
    (A+'Tensor+Elementwise.swift', "[nil, needed[1] ? clampPullback(input: x[0], upstream: u, lower: lower, upper: upper) : nil]", "[nil, nil]", "clamp pullback wrt upstream"),
    (A+'Tensor+Elementwise.swift', "[needed[0] ? scaledProduct(x[1], x[2], u, scale: scale) : nil,", "[nil,", "scaledProduct first"),
    (A+'Tensor+Elementwise.swift', "needed[1] ? scaledProduct(x[0], x[2], u, scale: scale) : nil,", "nil,", "scaledProduct second"),
    (A+'Tensor+Elementwise.swift', "needed[2] ? scaledProduct(x[0], x[1], u, scale: scale) : nil]", "nil]", "scaledProduct third"),
    (A+'Tensor+Shape.swift', "{ g, x, _, _ in [g.summed(toShape: x[0].shape)] }", "{ g, x, _, _ in [nil] }", "broadcast pullback"),
    (A+'Tensor+Shape.swift', "{ g, _, _, _ in [g.permuted(inverse)] }", "{ g, _, _, _ in [g.permuted(permutation)] }", "permute inverse"),
    (A+'Tensor+Shape.swift', "[g.padded(into: fullShape, at: range.lowerBound, alongAxis: axis)]", "[g.padded(into: fullShape, at: 0, alongAxis: axis)]", "slice offset"),
    (A+'Tensor+Shape.swift', "{ g, _, _, _ in [g.slice(range, alongAxis: axis)] }", "{ g, _, _, _ in [nil] }", "pad pullback"),
    (A+'Tensor+Shape.swift', "return needed[i] ? g.slice(start..<(start + extent), alongAxis: axis) : nil", "return needed[i] && i == 0 ? g.slice(start..<(start + extent), alongAxis: axis) : nil", "concatenate later operands"),
    (A+'Tensor+Reduction.swift', "{ g, _, _, _ in [g.reshaped(kept)] }", "{ g, _, _, _ in [nil] }", "sum pullback"),
    (A+'Gradients.swift', "if gradient.shape != node.shape { gradient = gradient.broadcast(to: node.shape) }", "", "materialising broadcast gradients"),
    (A+'Tensor+Reduction.swift', "[g.reshaped(kept).scatteredAdding(indices: indices, alongAxis: axis, extent: inputShape[axis])]", "[nil]", "max pullback"),
    (A+'Tensor+Indexing.swift', "[g.scatteredAdding(indices: indices, alongAxis: axis, extent: extent)]", "[nil]", "gather pullback"),
    (A+'Tensor+Indexing.swift', "[g.gathering(indices: indices, indexShape: indexShape, alongAxis: axis)]", "[nil]", "scatter pullback"),
    (A+'Tensor+Indexing.swift', "return [needed[0] ? selecting(condition, g, zero) : nil,", "return [nil,", "select first"),
    (A+'Tensor+Indexing.swift', "needed[1] ? selecting(inverted, g, zero) : nil]", "nil]", "select second"),
    (A+'Tensor+LinearAlgebra.swift', "gradientA = needed[0] ? matmul(g, b, transposingB: true) : nil", "gradientA = nil", "matmul NN dA"),
    (A+'Tensor+LinearAlgebra.swift', "gradientB = needed[1] ? matmul(a, g, transposingA: true) : nil", "gradientB = nil", "matmul NN dB"),
    (A+'Tensor+LinearAlgebra.swift', "gradientA = needed[0] ? matmul(b, g, transposingB: true) : nil", "gradientA = nil", "matmul TN dA"),
    (A+'Tensor+LinearAlgebra.swift', "gradientB = needed[1] ? matmul(a, g) : nil", "gradientB = nil", "matmul TN dB"),
    (A+'Tensor+LinearAlgebra.swift', "gradientA = needed[0] ? matmul(g, b) : nil", "gradientA = nil", "matmul NT dA"),
    (A+'Tensor+LinearAlgebra.swift', "gradientB = needed[1] ? matmul(g, a, transposingA: true) : nil", "gradientB = nil", "matmul NT dB"),
    (A+'Tensor+LinearAlgebra.swift', "gradientA = needed[0] ? matmul(b, g, transposingA: true, transposingB: true) : nil", "gradientA = nil", "matmul TT dA"),
    (A+'Tensor+LinearAlgebra.swift', "gradientB = needed[1] ? matmul(g, a, transposingA: true, transposingB: true) : nil", "gradientB = nil", "matmul TT dB"),
    (A+'Tensor+LinearAlgebra.swift', "[needed[0] ? matmul(g, x[1], transposingB: true) : nil,", "[nil,", "linear dx"),
    (A+'Tensor+LinearAlgebra.swift', "needed[1] ? matmul(x[0], g, transposingA: true) : nil,", "nil,", "linear dW"),
    (A+'Tensor+LinearAlgebra.swift', "needed[2] ? g.sum(alongAxis: 0).reshaped(x[2].shape) : nil]", "nil]", "linear db"),
    (A+'Gradients.swift', "accumulated[inputID] = existing + contribution", "accumulated[inputID] = contribution", "accumulation of several uses"),
    # The hand-written forward-over-reverse products of MetaLearning (MLP+Linearisation.swift,
    # InnerLossCurvature.swift, MAMLTRPO+Fisher.swift).
    (M+'MLP+Linearisation.swift', "RowMajor.multiply(hidden[layer - 1], weights[layer], into: &zDot, m: rows, n: fanOut, k: fanIn)", "", "tangent through the previous layer"),
    (M+'MLP+Linearisation.swift', "case .tanh: RowMajor.addRow(direction[2 * layer + 1], to: &zDot, timesSlopeOf: h, Self.tanhSlope)", "case .tanh: RowMajor.multiply(&zDot, bySlopeOf: h, Self.tanhSlope)", "hidden bias tangent"),
    (M+'MLP+Linearisation.swift', "static func reluSlope(_ h: Scalar) -> Scalar { h > 0 ? 1 : 0 }", "static func reluSlope(_ h: Scalar) -> Scalar { h >= 0 ? 1 : 0 }", "relu slope from its output"),
    (M+'MLP+Linearisation.swift', "RowMajor.multiply(tangents.hidden[layer - 1], delta, into: &weightPart, m: fanIn, n: fanOut, k: rows,\n                                  transposingA: true)", "", "second order: input tangent times adjoint"),
    (M+'MLP+Linearisation.swift', "RowMajor.multiply(delta, transposedDirection[layer], into: &eDot, m: rows, n: fanIn, k: fanOut)", "", "second order: adjoint times weight direction"),
    (M+'MLP+Linearisation.swift', "px[i] = px[i] * s + -2 * pe[i] * ph[i] * pd[i]", "px[i] = px[i] * s", "second order: activation curvature"),
    (M+'MLP+Linearisation.swift', "adjoint[i] = pe[i] * s", "adjoint[i] = pe[i]", "second order: hidden δ from its adjoint"),
    (M+'MLP+Linearisation.swift', "Tensor(shape: [rows, columns], scalars: matrix).transposed().scalars", "matrix", "backward passes: Wᵀ and Vᵀ transposed"),
    (M+'MLP+Linearisation.swift', "result[2 * layer + 1] = RowMajor.columnSums(deltaDot, ones: ones, columns: fanOut)", "result[2 * layer + 1] = [Scalar](repeating: 0, count: fanOut)", "second order: bias"),
    (M+'GaussianHead.swift', "adjoint[i] = -c[r] * u[i] * inverseStd[j]", "adjoint[i] = -c[r] * u[i]", "gaussian gradient 1/σ"),
    (M+'GaussianHead.swift', "logStdGradient[j] -= c[r] * (u[i] * u[i] - 1)", "logStdGradient[j] -= c[r] * u[i] * u[i]", "gaussian log σ gradient"),
    (M+'GaussianHead.swift', "+ 2 * slope * vLogStd[j]) - c[g] * q * slope", ") - c[g] * q * slope", "gaussian mean–log σ curvature"),
    (M+'GaussianHead.swift', "2 * c[g] * (slope * o[i] + u[gi] * u[gi] * vLogStd[j])", "2 * c[g] * (slope * o[i])", "gaussian log σ curvature"),
    (M+'GaussianHead.swift', "- c[g] * q * (u[gi] * u[gi] - 1)", "", "gaussian LVC log σ term"),
    (M+'CategoricalHead.swift', "tangent[row + j] = c[g] * (p[global + j] * (o[row + j] - expected) - q * score)", "tangent[row + j] = c[g] * (p[global + j] * o[row + j] - q * score)", "categorical curvature ppᵀ"),
    (M+'CategoricalHead.swift', "let q = lvc ? o[row + actions[g]] - expected : 0", "let q: Scalar = 0", "categorical LVC term"),
    (M+'GaussianHead.swift', "let g = rows.lowerBound + r  // the row in the whole batch", "let g = r", "row block: head rows at the block's offset"),
    (M+'InnerLossCurvature.swift', "if networkPart.isEmpty { networkPart = part } else { RowMajor.add(part, to: &networkPart) }", "networkPart = part", "row blocks: sum of the blocks' Hessian products"),
    (M+'GaussianHead.swift', "let weight = rowWeights[rows.lowerBound + r]\n                for j in 0..<width { upstream[r * width + j]", "let weight = rowWeights[r]\n                for j in 0..<width { upstream[r * width + j]", "row block: Fisher row weights at the block's offset"),
    (M+'GaussianHead.swift', "free[$0] ? 2 * weightSum * direction[0][$0] : 0", "free[$0] ? weightSum * direction[0][$0] : 0", "fisher log σ factor 2"),
    # The TRPO step (TrustRegionOptimizer.swift), the meta-batch's averages, and conjugate gradient.
    (M+'TrustRegionOptimizer.swift', "if terms.loss < start.loss && Double(terms.kl) < maxKL {", "if true {", "line search accepts any trial"),
    (M+'TrustRegionOptimizer.swift', "if terms.loss < start.loss && Double(terms.kl) < maxKL {", "if terms.loss < start.loss {", "line search ignores the KL"),
    (M+'TrustRegionOptimizer.swift', "if terms.loss < start.loss && Double(terms.kl) < maxKL {", "if Double(terms.kl) < maxKL {", "line search ignores the loss"),
    (M+'TrustRegionOptimizer.swift', "direction / Float((Double(quadratic) / maxKL).squareRoot())", "direction", "step not scaled to the trust region"),
    (M+'TrustRegionOptimizer.swift', "direction / Float((Double(quadratic) / maxKL).squareRoot())", "direction / Float((Double(quadratic) / maxKL))", "trust-region scale without the square root"),
    (M+'TrustRegionOptimizer.swift', "let quadratic = 0.5 * Tensor.dot(direction, curvatureAlongIt).scalar", "let quadratic = Tensor.dot(direction, curvatureAlongIt).scalar", "quadratic model without ½"),
    (M+'TrustRegionOptimizer.swift', "stepSize *= Float(backtrackRatio)", "stepSize *= 1", "line search never backtracks"),
    (M+'GradientMetaLearner.swift', "return products.reduce(Tensor.zeros([v.count]), +) / count", "return products.reduce(Tensor.zeros([v.count]), +)", "KL curvature not averaged over tasks"),
    # The learners' own terms (GradientStepMap, OuterObjective, ProMP, E-MAML, DiCE, Meta-SGD, CAVIA, Reptile).
    (M+'AdaptationMap.swift', "if let part = alphaPart { alphaPart = part - scales[i - 1] * inner.gradient * u }", "if let part = alphaPart { alphaPart = part }", "Meta-SGD: α's column of the pullback"),
    (M+'AdaptationMap.swift', "if let vAlpha { u = u - scales[i] * inner.gradient * vAlpha }", "", "Meta-SGD: α's column of the pushforward"),
    (M+'AdaptationMap.swift', "batch = given.importanceWeighted(policy: policy, parameters: points.last!, reference: references[i])", "batch = given", "LVC: likelihood ratios away from the sampling point"),
    (M+'OuterObjective.swift', "let takesPlain = TensorMask(shape: plain.shape, values: zip(plain.scalars, clipped.scalars).map { $0 <= $1 })", "let takesPlain = TensorMask(shape: plain.shape, values: zip(plain.scalars, clipped.scalars).map { $0 >= $1 })", "PPO: min of the two surrogates"),
    (M+'ProMP.swift', "let kl = Scalar(penalties[i]) * share * (references.inner[i].klDivergence(to: current) * batch.stepWeights).sum()", "let kl = Scalar(penalties[i]) * share * (current.klDivergence(to: current.detached) * batch.stepWeights).sum()", "ProMP: inner KL against its reference"),
    (M+'ProMP.swift', "if Double(kl) < target / 1.5 { exponents[i] -= 1 }", "if Double(kl) < target / 1.5 { exponents[i] += 1 }", "ProMP: η halved below the target"),
    (M+'EMAML.swift', "let term = Scalar(-weight * constant) * logLikelihood", "let term = Scalar(weight * constant) * logLikelihood", "E-MAML: the exploration term's sign"),
    (M+'DiCE.swift', "+ (1 - (logProbability - held).exp()) * ((sums - logProbability) - (heldSums - held)).exp()", "+ (1 - (logProbability - held).exp())", "DiCE: the baseline term's magic box"),
    (M+'DiCE.swift', "let objective = (sums - heldSums).exp() * Tensor(shape: [rows, 1], scalars: q)", "let objective = (logProbability - held).exp() * Tensor(shape: [rows, 1], scalars: q)", "DiCE: cumulative log-probabilities"),
    (A+'Tensor+Scan.swift', "[g.cumulativeSum(segments: segments, reversed: !reversed)]", "[g.cumulativeSum(segments: segments, reversed: reversed)]", "cumulative sum pullback direction"),
    (M+'CAVIA.swift', "let shift = contextGradient.matmul(contextWeights).reshaped([h])", "let shift = biasGradient", "CAVIA: the context's effect through W_φ"),
    (M+'MetaSGD.swift', "pair.0 - scale * pair.1 * g", "pair.0 - scale * g", "Meta-SGD: the learned α in the step"),
    (M+'TabularMDP.swift', "distribution = joint.reshaped([1, states * actions]).matmul(step).reshaped([states, 1])", "distribution = joint.sum(alongAxis: 1, keepingDimension: true)", "tabular MDP: transitions"),
    (M+'TabularMDP.swift', "hessianProduct = curvature.hessianProduct(gPost) * -1", "hessianProduct = curvature.hessianProduct(gPost)", "tabular MDP: Hessian sign"),
    (A+'ConjugateGradient.swift', "direction = residual + (nextNormSquared / residualNormSquared) * direction", "direction = residual", "conjugate gradient without conjugation"),
    (A+'ConjugateGradient.swift', "residual = residual - stepLength * z", "residual = residual - z", "conjugate gradient residual step"),
    (A+'ConjugateGradient.swift', "return (x, b - residual)", "return (x, b)", "conjugate gradient product A·x"),
    # Policy-gradient losses, advantages, the baseline, log-probabilities and KLs.
    (M+'PolicyGradient.swift', "return -(logProbability * weightedAdvantages).sum()", "return (logProbability * weightedAdvantages).sum()", "REINFORCE loss sign"),
    (M+'PolicyGradient.swift', "return -((logProbability - logProbability.detached).exp() * weightedAdvantages).sum()", "return -(logProbability * weightedAdvantages).sum()", "LVC loss as REINFORCE"),
    (M+'OuterObjective.swift', "let ratio = logRatio.exp()", "let ratio = logRatio + 1", "outer surrogate without the ratio's exp"),
    (M+'OuterObjective.swift', "let stepKL = share * (current.klDivergence(to: reference) * batch.stepWeights).sum()", "let stepKL = share * current.klDivergence(to: reference).sum()", "outer KL without step weights"),
    (M+'Advantages.swift', "running = Double(rewards[t]) + gamma * running", "running = Double(rewards[t]) + running", "returns without discount"),
    (M+'Advantages.swift', "let delta = Double(rewards[t]) + gamma * nextValue - values[t]", "let delta = Double(rewards[t]) - values[t]", "TD error without the next value"),
    (M+'Advantages.swift', "running = delta + gamma * lambda * running", "running = delta + gamma * running", "GAE without λ"),
    (M+'Advantages.swift', "let centred = advantages.map { $0 - mean }", "let centred = advantages", "advantages not centred"),
    (M+'Advantages.swift', "return centred.map { $0 / scale }", "return centred", "advantages not scaled"),
    (M+'LinearFeatureBaseline.swift', "phi[start + d + j] = o * o", "phi[start + d + j] = o", "baseline squared features"),
    (M+'LinearFeatureBaseline.swift', "phi[start + 2 * d + 3] = 1", "phi[start + 2 * d + 3] = 0", "baseline constant feature"),
    (M+'LinearFeatureBaseline.swift', "moment[i] += xi * targets[row]", "moment[i] += targets[row]", "baseline normal equations Xᵀy"),
    (M+'GaussianMLPPolicy.swift', "let perDimension = -0.5 * z.squared() - logStd - Scalar(0.5 * Double.log(2 * Double.pi))", "let perDimension = -0.5 * z.squared() - Scalar(0.5 * Double.log(2 * Double.pi))", "gaussian log-probability without log σ"),
    (M+'GaussianMLPPolicy.swift', "let meanTerm = (p.mean - q.mean).squared() / (2 * q.logStd).exp()", "let meanTerm = (p.mean - q.mean).squared()", "gaussian KL mean term without σ_q²"),
    (M+'GaussianMLPPolicy.swift', "let perDimension = q.logStd - p.logStd + 0.5 * (varianceRatio + meanTerm) - 0.5", "let perDimension = 0.5 * (varianceRatio + meanTerm) - 0.5", "gaussian KL without the log σ ratio"),
    (M+'CategoricalMLPPolicy.swift', "(p.exp() * (p - q)).sum(alongAxis: 1, keepingDimension: true)", "(p - q).sum(alongAxis: 1, keepingDimension: true)", "categorical KL without p weights"),
    (M+'CategoricalMLPPolicy.swift', "for (row, action) in actions.scalars.enumerated() { mask[row * n + Int(action)] = 1 }", "for (row, _) in actions.scalars.enumerated() { mask[row * n] = 1 }", "categorical log-probability of the wrong action"),
]


def main():
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True).stdout.strip()
    work = tempfile.mkdtemp(prefix="metarl-mutations-")
    subprocess.run(["git", "clone", "-q", top, work], check=True)
    os.chdir(work)
    missed = []
    chosen = [m for m in MUTATIONS if len(sys.argv) < 2 or any(word in m[0] or word in m[3] for word in sys.argv[1:])]
    for path, old, new, name in chosen:
        source = open(path).read()
        if source.count(old) != 1:
            verdict = "TEXT NOT FOUND"
        else:
            open(path, "w").write(source.replace(old, new))
            build = subprocess.run(["swift", "build", "--build-tests"], capture_output=True, text=True)
            if build.returncode != 0:
                verdict = "BUILD FAILED"
            else:
                test = subprocess.run(["swift", "test", "--skip-build", "--disable-xctest",
                                       "--filter", "AutodiffTests|MetaLearningTests"], capture_output=True, text=True)
                verdict = "caught" if test.returncode != 0 else "NOT CAUGHT"
            open(path, "w").write(source)
        print(f"{verdict:14} {name}", flush=True)
        if verdict != "caught":
            missed.append(name)
    print(f"{len(chosen) - len(missed)} of {len(chosen)} mutations caught")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
