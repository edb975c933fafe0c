import Autodiff

extension MAMLTRPO {
    /// The derivatives of one task's outer objective with respect to θ, factored through the inner
    /// steps θ₀ = θ, θᵢ₊₁ = θᵢ − αᵢ∇Lᵢ(θᵢ).
    ///
    /// The Jacobian of the adapted parameters is J = Πᵢ (I − αᵢHᵢ), Hᵢ the Hessian of inner loss i
    /// at θᵢ. Then the meta-gradient is Jᵀ∇_θ'L and, because the KL and its gradient vanish at
    /// the reference policy (π_old is π_θ' itself), the KL's Hessian through the inner steps is
    /// exactly Jᵀ H_KL(θ') J: the terms with third derivatives are multiplied by ∇_θ'KL = 0.
    /// Products with J and Jᵀ each cost one backward pass over a graph built once, instead of one
    /// pass over the third-order graph of the direct form; H_KL(θ') is the policy output's Fisher
    /// information there (`PolicyOutputFisher`), a forward-mode and a backward pass over the
    /// network alone. First-order MAML takes J = I.
    ///
    /// The direct form (`surrogate(_:rollout:reference:differentiable:)` differentiated twice) is
    /// kept for tests, which check that both agree.
    public struct TaskCurvature<Scalar: TensorScalar>: @unchecked Sendable {
        // @unchecked: the graphs are immutable once built and only read by later products.

        /// θ₀ … θ_{k−1} as leaves, and ∇Lᵢ(θᵢ) recorded so that Hᵢ·v = ∇(∇Lᵢ · v).
        let innerPoints: [[Tensor<Scalar>]]
        let innerGradients: [Tensor<Scalar>]
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
            var points: [[Tensor<Scalar>]] = []
            var innerGradients: [Tensor<Scalar>] = []
            for (batch, alpha) in zip(rollout.train, alphas) {
                let point = theta.map { Tensor.variable($0) }
                let gradient = gradients(of: batch.innerLoss(policy: policy, parameters: point, objective: h.innerObjective), wrt: point,
                                         createGraph: !h.firstOrder)
                points.append(point)
                innerGradients.append(ParameterVector.flatten(gradient))
                theta = zip(theta, gradient).map { ($0 - alpha * $1).detached }
            }
            let adapted = theta.map { Tensor.variable($0) }
            let valid = rollout.valid
            let current = policy.distribution(valid.observations, parameters: adapted)
            let reference = current.detached
            // At θ' the ratio π/π_old is 1 in value; its gradient is ∇ log π.
            let (loss, kl) = MAMLTRPO.outerObjective(current, reference: reference, on: valid)

            self.innerPoints = points
            self.innerGradients = innerGradients
            self.stepSizes = alphas
            self.klCurvature = PolicyOutputFisher(policy: policy, observations: valid.observations, leaves: adapted,
                                                  current: current, rowWeights: valid.stepWeights)
            self.loss = loss.scalar
            self.kl = kl.scalar
            self.reference = reference
            let outerGradient = ParameterVector.flatten(gradients(of: loss, wrt: adapted))
            self.metaGradient = h.firstOrder ? outerGradient
                : Self.jacobianTransposeProduct(outerGradient, points: points, gradients: innerGradients, stepSizes: alphas)
        }

        /// H·v for a Hessian recorded as `gradient` (a function of `point`).
        static func hessianProduct(_ gradient: Tensor<Scalar>, at point: [Tensor<Scalar>], _ v: Tensor<Scalar>) -> Tensor<Scalar> {
            ParameterVector.flatten(gradients(of: Tensor.dot(gradient, v.detached), wrt: point))
        }

        /// Jᵀz = (I − α₀H₀)ᵀ ⋯ (I − α_{k−1}H_{k−1})ᵀ z: the last step first.
        static func jacobianTransposeProduct(
            _ z: Tensor<Scalar>, points: [[Tensor<Scalar>]], gradients: [Tensor<Scalar>], stepSizes: [Scalar]
        ) -> Tensor<Scalar> {
            var result = z
            for i in points.indices.reversed() {
                result = result - stepSizes[i] * hessianProduct(gradients[i], at: points[i], result)
            }
            return result
        }

        /// Jv, the first step first.
        func jacobianProduct(_ v: Tensor<Scalar>, firstOrder: Bool) -> Tensor<Scalar> {
            guard !firstOrder else { return v }
            var result = v
            for i in innerPoints.indices {
                result = result - stepSizes[i] * Self.hessianProduct(innerGradients[i], at: innerPoints[i], result)
            }
            return result
        }

        /// The Hessian of the mean KL through the inner steps, times v: Jᵀ H_KL(θ') J v.
        public func klHessianProduct(_ v: Tensor<Scalar>, firstOrder: Bool) -> Tensor<Scalar> {
            let w = klCurvature.product(jacobianProduct(v, firstOrder: firstOrder))
            return firstOrder ? w
                : Self.jacobianTransposeProduct(w, points: innerPoints, gradients: innerGradients, stepSizes: stepSizes)
        }
    }

    /// The factored derivatives of one task's outer objective at θ.
    public func curvature<Scalar>(at parameters: [Tensor<Scalar>], rollout: TaskRollout<Scalar>) -> TaskCurvature<Scalar> {
        TaskCurvature(maml: self, parameters: parameters, rollout: rollout)
    }
}
