/// The conjugate-gradient method for A·x = b with a symmetric positive-definite A known only
/// through products A·p (Hestenes & Stiefel 1952; the form of Schulman et al.'s TRPO code, as
/// pytorch-maml-rl uses it with `cg-iters` 10 and `residual-tol` 1e-10).
///
/// - Parameters:
///   - product: p ↦ A·p for rank-1 tensors of `b`'s shape (for TRPO, a damped Fisher or KL
///     Hessian–vector product).
///   - b: the right-hand side.
///   - iterations: the most products to take.
///   - residualTolerance: stop once ‖r‖² falls below this.
/// - Returns: the approximate solution x (untracked).
/// - Complexity: `iterations` products plus O(`iterations`·n) vector work.
@specialized(where Scalar == Float)
public func conjugateGradient<Scalar>(
    _ product: (Tensor<Scalar>) -> Tensor<Scalar>, b: Tensor<Scalar>, iterations: Int = 10,
    residualTolerance: Scalar = 1e-10
) -> Tensor<Scalar> {
    conjugateGradientWithProduct(product, b: b, iterations: iterations, residualTolerance: residualTolerance).solution
}

/// `conjugateGradient`, also returning A·x without another product: the residual the method
/// keeps is b − A·x (updated by the products it took), so A·x = b − r. TRPO needs xᵀA·x to scale
/// its step, and this saves the one product of eleven that computing it afresh would cost.
@specialized(where Scalar == Float)
public func conjugateGradientWithProduct<Scalar>(
    _ product: (Tensor<Scalar>) -> Tensor<Scalar>, b: Tensor<Scalar>, iterations: Int = 10,
    residualTolerance: Scalar = 1e-10
) -> (solution: Tensor<Scalar>, product: Tensor<Scalar>) {
    precondition(iterations >= 0, "conjugate gradient needs a non-negative iteration count")
    let b = b.detached
    var x = Tensor<Scalar>.zeros(b.shape)
    var residual = b
    var direction = b
    var residualNormSquared = Tensor.dot(residual, residual).scalar
    for _ in 0..<iterations {
        if residualNormSquared < residualTolerance { break }
        let z = product(direction).detached
        let curvature = Tensor.dot(direction, z).scalar
        guard curvature > 0 else { break }  // A is not positive definite along p: stop where we are.
        let stepLength = residualNormSquared / curvature
        x = x + stepLength * direction
        residual = residual - stepLength * z
        let nextNormSquared = Tensor.dot(residual, residual).scalar
        direction = residual + (nextNormSquared / residualNormSquared) * direction
        residualNormSquared = nextNormSquared
    }
    return (x, b - residual)
}
