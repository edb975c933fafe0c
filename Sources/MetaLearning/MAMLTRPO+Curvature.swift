import Autodiff

extension MAMLTRPO {
    /// The derivatives of one task's outer objective with respect to θ, factored through the inner
    /// steps θ₀ = θ, θᵢ₊₁ = θᵢ − αᵢ∇Lᵢ(θᵢ).
    ///
    /// The Jacobian of the adapted parameters is J = Πᵢ (I − αᵢHᵢ), Hᵢ the Hessian of inner loss i
    /// at θᵢ. Then the meta-gradient is Jᵀ∇_θ'L and, because the KL and its gradient vanish at
    /// the reference policy (π_old is π_θ' itself), the KL's Hessian through the inner steps is
    /// exactly Jᵀ H_KL(θ') J: the terms with third derivatives are multiplied by ∇_θ'KL = 0.
    /// Products with J and Jᵀ each take one Hessian–vector product per inner step, written out by
    /// hand over the network (`InnerLossCurvature`), instead of a pass over the third-order graph of
    /// the direct form; H_KL(θ') is the policy output's Fisher information there
    /// (`PolicyOutputFisher`), a forward-mode and a backward pass over the network alone.
    /// First-order MAML takes J = I.
    ///
    /// The direct form (`surrogate(_:rollout:reference:differentiable:)` differentiated twice) is
    /// kept for tests, which check that both agree.
    public struct TaskCurvature<Scalar: TensorScalar>: @unchecked Sendable {
        // @unchecked: the graphs are immutable once built and only read by later products.

        /// The inner losses at θ₀ … θ_{k−1}, for their gradients and Hessian products Hᵢ·v.
        let innerLosses: [InnerLossCurvature<Scalar>]
        let stepSizes: [Scalar]
        /// The KL's Hessian at θ', as the policy output's Fisher information.
        let klCurvature: PolicyOutputFisher<Scalar>
        public let loss: Scalar
        public let kl: Scalar
        /// The meta-gradient Jᵀ∇_θ'L, flattened.
        public let metaGradient: Tensor<Scalar>
        /// π_old: the adapted policy on the validation observations, detached.
        public let reference: ActionDistribution<Scalar>

        init(maml: MAMLTRPO, parameters: [Tensor<Scalar>], rollout: TaskRollout<Scalar>) {
            let h = maml.hyperparameters
            let policy = maml.policy
            let alphas: [Scalar] = h.innerStepSizes()
            var theta = parameters.map(\.detached)
            var innerLosses: [InnerLossCurvature<Scalar>] = []
            for (batch, alpha) in zip(rollout.train, alphas) {
                let inner = InnerLossCurvature(policy: policy, parameters: theta, batch: batch, objective: h.innerObjective)
                innerLosses.append(inner)
                theta = zip(theta, inner.gradientParts).map { $0 - alpha * $1 }
            }
            let adapted = theta.map { Tensor.variable($0) }
            let valid = rollout.valid
            let current = policy.distribution(valid.observations, parameters: adapted)
            let reference = current.detached
            // At θ' the ratio π/π_old is 1 in value; its gradient is ∇ log π.
            let (loss, kl) = MAMLTRPO.outerObjective(current, reference: reference, on: valid)

            self.innerLosses = innerLosses
            self.stepSizes = alphas
            self.klCurvature = PolicyOutputFisher(policy: policy, observations: valid.observations, parameters: theta,
                                                  current: current, rowWeights: valid.stepWeights)
            self.loss = loss.scalar
            self.kl = kl.scalar
            self.reference = reference
            let outerGradient = ParameterVector.flatten(gradients(of: loss, wrt: adapted))
            self.metaGradient = h.firstOrder ? outerGradient
                : Self.jacobianTransposeProduct(outerGradient, innerLosses: innerLosses, stepSizes: alphas)
        }

        /// Jᵀz = (I − α₀H₀)ᵀ ⋯ (I − α_{k−1}H_{k−1})ᵀ z: the last step first (each Hᵢ is symmetric).
        static func jacobianTransposeProduct(
            _ z: Tensor<Scalar>, innerLosses: [InnerLossCurvature<Scalar>], stepSizes: [Scalar]
        ) -> Tensor<Scalar> {
            var result = z
            for i in innerLosses.indices.reversed() {
                result = result - stepSizes[i] * innerLosses[i].hessianProduct(result)
            }
            return result
        }

        /// Jv, the first step first.
        func jacobianProduct(_ v: Tensor<Scalar>, firstOrder: Bool) -> Tensor<Scalar> {
            guard !firstOrder else { return v }
            var result = v
            for i in innerLosses.indices {
                result = result - stepSizes[i] * innerLosses[i].hessianProduct(result)
            }
            return result
        }

        /// The Hessian of the mean KL through the inner steps, times v: Jᵀ H_KL(θ') J v.
        public func klHessianProduct(_ v: Tensor<Scalar>, firstOrder: Bool) -> Tensor<Scalar> {
            let w = klCurvature.product(jacobianProduct(v, firstOrder: firstOrder))
            return firstOrder ? w
                : Self.jacobianTransposeProduct(w, innerLosses: innerLosses, stepSizes: stepSizes)
        }
    }

    /// The factored derivatives of one task's outer objective at θ.
    public func curvature<Scalar>(at parameters: [Tensor<Scalar>], rollout: TaskRollout<Scalar>) -> TaskCurvature<Scalar> {
        TaskCurvature(maml: self, parameters: parameters, rollout: rollout)
    }
}
