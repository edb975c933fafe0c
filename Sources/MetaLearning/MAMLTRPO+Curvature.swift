import Autodiff

extension MAMLTRPO {
    /// The derivatives of one task's outer objective with respect to θ, factored through the inner
    /// steps θ₀ = θ, θᵢ₊₁ = θᵢ − αᵢ∇Lᵢ(θᵢ).
    ///
    /// The Jacobian of θ_s is J_s = Π_{i<s} (I − αᵢHᵢ), Hᵢ the Hessian of inner loss i at θᵢ. For
    /// an outer objective (1/n) Σ_s L_s(θ_s) over the scored policies (the last one for MAML), the
    /// meta-gradient is (1/n) Σ_s J_sᵀ∇L_s and, because each KL and its gradient vanish at its
    /// reference policy (π_old is π_θs itself), the KL's Hessian through the inner steps is exactly
    /// (1/n) Σ_s J_sᵀ H_KL(θ_s) J_s: the terms with third derivatives are multiplied by ∇KL = 0.
    /// Products with J and Jᵀ each take one Hessian–vector product per inner step, written out by
    /// hand over the network (`InnerLossCurvature`), instead of a pass over the third-order graph of
    /// the direct form; H_KL(θ_s) is the policy output's Fisher information there
    /// (`PolicyOutputFisher`), a forward-mode and a backward pass over the network alone.
    /// First-order MAML takes J = I.
    ///
    /// The direct form (`surrogate(_:rollout:references:differentiable:)` differentiated twice) is
    /// kept for tests, which check that both agree.
    public struct TaskCurvature<Scalar: TensorScalar>: @unchecked Sendable {
        // @unchecked: the reference distributions' tensors are constants, only read.

        /// The inner losses at θ₀ … θ_{k−1}, for their gradients and Hessian products Hᵢ·v.
        let innerLosses: [InnerLossCurvature<Scalar>]
        let stepSizes: [Scalar]
        /// Each scored policy's step s (θ_s) and its KL's Hessian there, as the policy output's
        /// Fisher information.
        let scored: [(step: Int, klCurvature: PolicyOutputFisher<Scalar>)]
        public let loss: Scalar
        public let kl: Scalar
        /// The meta-gradient (1/n) Σ_s J_sᵀ∇L_s, flattened.
        public let metaGradient: Tensor<Scalar>
        /// π_old for each scored policy: the adapted policy on its episodes, detached.
        public let references: [ActionDistribution<Scalar>]
        let firstOrder: Bool

        init(maml: MAMLTRPO, parameters: [Tensor<Scalar>], rollout: TaskRollout<Scalar>) {
            let h = maml.hyperparameters
            let policy = maml.policy
            let alphas: [Scalar] = h.innerStepSizes()
            var points = [parameters.map(\.detached)]
            var innerLosses: [InnerLossCurvature<Scalar>] = []
            for (batch, alpha) in zip(rollout.train, alphas) {
                let inner = InnerLossCurvature(policy: policy, parameters: points.last!, batch: batch, objective: h.innerObjective)
                innerLosses.append(inner)
                points.append(zip(points.last!, inner.gradientParts).map { $0 - alpha * $1 })
            }
            self.innerLosses = innerLosses
            self.stepSizes = alphas
            self.firstOrder = h.firstOrder

            let share = Scalar(1) / Scalar(rollout.scored(by: h.outerLoss).count)
            var scored: [(step: Int, klCurvature: PolicyOutputFisher<Scalar>)] = []
            var references: [ActionDistribution<Scalar>] = []
            var outerGradients: [Int: Tensor<Scalar>] = [:]
            var loss: Scalar = 0
            var kl: Scalar = 0
            for (step, batch) in rollout.scored(by: h.outerLoss) {
                let adapted = points[step].map { Tensor.variable($0) }
                let current = policy.distribution(batch.observations, parameters: adapted)
                let reference = current.detached
                // At θ_s the ratio π/π_old is 1 in value; its gradient is ∇ log π.
                let (stepLoss, stepKL) = MAMLTRPO.outerObjective(current, reference: reference, on: batch)
                loss += share * stepLoss.scalar
                kl += share * stepKL.scalar
                references.append(reference)
                scored.append((step, PolicyOutputFisher(policy: policy, observations: batch.observations, parameters: points[step],
                                                        current: current, rowWeights: batch.stepWeights)))
                outerGradients[step] = share * ParameterVector.flatten(gradients(of: stepLoss, wrt: adapted))
            }
            self.scored = scored
            self.references = references
            self.loss = loss
            self.kl = kl
            metaGradient = Self.transposeProduct(outerGradients, innerLosses: h.firstOrder ? [] : innerLosses, stepSizes: alphas)
        }

        /// Σ_s J_sᵀ z_s for vectors z_s at some of the steps s: from the last step back, each
        /// z_s joins in at its step and every (I − αᵢHᵢ)ᵀ = I − αᵢHᵢ (Hᵢ is symmetric) applies to
        /// what has gathered above it. Without inner losses (first order), J = I.
        static func transposeProduct(
            _ z: [Int: Tensor<Scalar>], innerLosses: [InnerLossCurvature<Scalar>], stepSizes: [Scalar]
        ) -> Tensor<Scalar> {
            let steps = z.keys.sorted(by: >)
            guard !innerLosses.isEmpty else { return steps.dropFirst().reduce(z[steps[0]]!) { $0 + z[$1]! } }
            var result = Tensor<Scalar>.zeros([z[steps[0]]!.count])
            for i in stride(from: innerLosses.count, through: 0, by: -1) {
                if let zi = z[i] { result = result + zi }
                if i > 0 { result = result - stepSizes[i - 1] * innerLosses[i - 1].hessianProduct(result) }
            }
            return result
        }

        /// The Hessian of the mean KL through the inner steps, times v: Σ_s (1/n) J_sᵀ H_KL(θ_s) J_s v.
        public func klHessianProduct(_ v: Tensor<Scalar>) -> Tensor<Scalar> {
            let share = Scalar(1) / Scalar(scored.count)
            // J_s v for s = 0 … k, the first step first.
            var forward = [v]
            if !firstOrder {
                for i in innerLosses.indices {
                    let u = forward[i]
                    forward.append(u - stepSizes[i] * innerLosses[i].hessianProduct(u))
                }
            }
            var products: [Int: Tensor<Scalar>] = [:]
            for (step, fisher) in scored {
                products[step] = share * fisher.product(firstOrder ? v : forward[step])
            }
            return Self.transposeProduct(products, innerLosses: firstOrder ? [] : innerLosses, stepSizes: stepSizes)
        }
    }

    /// The factored derivatives of one task's outer objective at θ.
    public func curvature<Scalar>(at parameters: [Tensor<Scalar>], rollout: TaskRollout<Scalar>) -> TaskCurvature<Scalar> {
        TaskCurvature(maml: self, parameters: parameters, rollout: rollout)
    }
}
