/// Reverse-mode derivatives of `output` with respect to each of `inputs`.
///
/// The gradient of a scalar `output` with respect to each input, or, with a `seed` of the output's
/// shape, the vector–Jacobian product `seedᵀ · ∂output/∂input`. Inputs that `output` does not depend
/// on get zeros of their shape.
///
/// With `createGraph`, the backward pass is itself recorded: the returned gradients are tracked
/// tensors that can be differentiated again. That is how a Hessian–vector product is formed
/// (differentiate ⟨∇f, v⟩), and how MAML differentiates through an inner gradient step; a third
/// call on top gives third derivatives.
///
/// - Parameters:
///   - output: a tracked tensor; a scalar unless `seed` is given.
///   - inputs: tracked tensors `output` was computed from (leaves or intermediate results).
///   - seed: the upstream gradient; ones when omitted (only valid for a one-element output).
///   - createGraph: record the backward pass so that the gradients are differentiable.
/// - Returns: one gradient per input, each of that input's shape.
/// - Complexity: one visit of every node between `output` and `inputs`; each pullback costs about
///   as much as its forward operation. Nodes that lead to no input are skipped.
@specialized(where Scalar == Float)
public func gradients<Scalar>(
    of output: Tensor<Scalar>, wrt inputs: [Tensor<Scalar>], seed: Tensor<Scalar>? = nil,
    createGraph: Bool = false
) -> [Tensor<Scalar>] {
    precondition(inputs.allSatisfy { $0._node != nil },
                 "gradients(of:wrt:) needs tracked inputs: make them with Tensor.variable(_:)")
    let upstream: Tensor<Scalar>
    if let seed {
        precondition(seed.shape == output.shape, "seed shape \(seed.shape) ≠ output shape \(output.shape)")
        upstream = createGraph ? seed : seed.detached
    } else {
        precondition(output.count == 1, "gradients of a tensor with shape \(output.shape) need a seed")
        upstream = .ones(output.shape)
    }
    guard let root = output._node else {
        return inputs.map { .zeros($0.shape) }
    }
    let targets = Set(inputs.map { ObjectIdentifier($0._node!) })
    let order = topologicalOrder(from: root, relevantTo: targets)

    var accumulated: [ObjectIdentifier: Tensor<Scalar>] = [ObjectIdentifier(root): upstream]
    var found: [ObjectIdentifier: Tensor<Scalar>] = [:]
    for node in order.nodes.reversed() {
        let id = ObjectIdentifier(node)
        guard var gradient = accumulated.removeValue(forKey: id) else { continue }
        // Pullbacks may leave a gradient in a shape that broadcasts to their input's (a sum's
        // pullback does): the broadcast is folded into accumulation, and materialised only here.
        if gradient.shape != node.shape { gradient = gradient.broadcast(to: node.shape) }
        if targets.contains(id) { found[id] = gradient }
        guard let pullback = node.pullback else { continue }
        let needed = node.inputs.map { input in input._node.map { order.relevant.contains(ObjectIdentifier($0)) } ?? false }
        guard needed.contains(true) else { continue }
        let contributions: [Tensor<Scalar>?]
        if createGraph {
            contributions = pullback(gradient, node.inputs, node.trackedOutput, needed)
        } else {
            contributions = pullback(gradient.detached, node.inputs.map { $0.detached },
                                     Tensor(shape: node.shape, scalars: node.scalars), needed)
        }
        for (input, contribution) in zip(node.inputs, contributions) {
            guard let contribution, let inputNode = input._node else { continue }
            let inputID = ObjectIdentifier(inputNode)
            guard order.relevant.contains(inputID) else { continue }
            precondition(contribution.shape == input.shape || BroadcastLayout(contribution.shape, input.shape)?.shape == input.shape,
                         "pullback produced shape \(contribution.shape) for an input of shape \(input.shape)")
            if let existing = accumulated.removeValue(forKey: inputID) {
                accumulated[inputID] = existing + contribution
            } else {
                accumulated[inputID] = contribution
            }
        }
    }
    return inputs.map { input in
        let gradient = found[ObjectIdentifier(input._node!)] ?? .zeros(input.shape)
        return createGraph ? gradient : gradient.detached
    }
}

/// The gradient of a scalar-valued function at `point`, with the function's value.
@specialized(where Scalar == Float)
public func valueWithGradient<Scalar>(
    at point: [Tensor<Scalar>], of function: ([Tensor<Scalar>]) -> Tensor<Scalar>
) -> (value: Scalar, gradient: [Tensor<Scalar>]) {
    let variables = point.map { Tensor.variable($0) }
    let value = function(variables)
    return (value.scalar, gradients(of: value, wrt: variables))
}

/// Nodes reachable from `root` in an order where every node comes after all of its inputs
/// (a depth-first post-order), keeping only nodes through which `root` depends on a target.
struct TopologicalOrder<Scalar: TensorScalar> {
    var nodes: [GraphNode<Scalar>] = []
    var relevant: Set<ObjectIdentifier> = []
}

@specialized(where Scalar == Float)
func topologicalOrder<Scalar>(
    from root: GraphNode<Scalar>, relevantTo targets: Set<ObjectIdentifier>
) -> TopologicalOrder<Scalar> {
    var order = TopologicalOrder<Scalar>()
    var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
    // An explicit stack, not recursion: unrolled recurrent graphs are thousands of nodes deep.
    var stack: [(node: GraphNode<Scalar>, nextInput: Int)] = [(root, 0)]
    while let top = stack.last {
        let inputs = top.node.inputs
        var index = top.nextInput
        while index < inputs.count {
            if let child = inputs[index]._node, visited.insert(ObjectIdentifier(child)).inserted {
                break
            }
            index += 1
        }
        if index < inputs.count {
            stack[stack.count - 1].nextInput = index + 1
            stack.append((inputs[index]._node!, 0))
        } else {
            stack.removeLast()
            let id = ObjectIdentifier(top.node)
            let leadsToTarget = targets.contains(id) || top.node.inputs.contains { input in
                input._node.map { order.relevant.contains(ObjectIdentifier($0)) } ?? false
            }
            if leadsToTarget {
                order.relevant.insert(id)
                order.nodes.append(top.node)
            }
        }
    }
    return order
}
