#!/usr/bin/env python3
"""PyTorch's side of `metarl bench autodiff`, on one CPU thread, the same workloads and shapes.

    python3 scripts/torch-bench.py mlp [--rows 4000 --hidden 64]
    python3 scripts/torch-bench.py gru [--steps 60 --batch 64 --input 9 --hidden 64]
    python3 scripts/torch-bench.py lstm [...]

`mlp`: a Gaussian policy-gradient loss -mean(log pi(a|s) * A) of a tanh MLP 2-H-H-2 with a learned
log-std: forward, forward+backward, one Hessian-vector product; and the GFLOP/s of a rows x H . H x H
product. `gru`/`lstm`: torch.nn.GRU/LSTM over [steps, batch, input] (time-major), the loss
sum_t <w_t, h_t>: forward, and forward + backward through time. Prints one JSON object of medians
(milliseconds), with the torch version and the thread count. Needs `pip install torch`.
"""
import argparse
import json
import statistics
import time

import torch


def median_ms(function, repeats, warmup=20):
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def mlp(args):
    n, h = args.rows, args.hidden
    w1 = torch.randn(2, h).requires_grad_()
    b1 = torch.zeros(h, requires_grad=True)
    w2 = (torch.randn(h, h) * 0.1).requires_grad_()
    b2 = torch.zeros(h, requires_grad=True)
    w3 = (torch.randn(h, 2) * 0.1).requires_grad_()
    b3 = torch.zeros(2, requires_grad=True)
    log_std = torch.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2, w3, b3, log_std]
    x, a, advantage = torch.randn(n, 2), torch.randn(n, 2), torch.randn(n)

    def loss():
        hidden = torch.tanh(torch.tanh(x @ w1 + b1) @ w2 + b2)
        mean = hidden @ w3 + b3
        log_p = (-0.5 * ((a - mean) / log_std.exp()) ** 2 - log_std).sum(-1)
        return -(log_p * advantage).mean()

    def forward():
        with torch.no_grad():
            loss()

    def forward_backward():
        torch.autograd.grad(loss(), params)

    direction = [torch.randn_like(p) for p in params]

    def hvp():
        grads = torch.autograd.grad(loss(), params, create_graph=True)
        torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, direction)), params)

    left, right = torch.randn(n, h), torch.randn(h, h)
    product_ms = median_ms(lambda: left @ right, args.repeats * 2)
    return {"network": "mlp", "rows": n, "hidden": h, "forward_ms": median_ms(forward, args.repeats),
            "forward_backward_ms": median_ms(forward_backward, args.repeats), "hvp_ms": median_ms(hvp, args.repeats),
            "sgemm_gflops": 2 * n * h * h / (product_ms * 1e-3) / 1e9}


def recurrent(args):
    core = (torch.nn.GRU if args.network == "gru" else torch.nn.LSTM)(args.input, args.hidden)
    inputs = torch.rand(args.steps, args.batch, args.input) * 2 - 1
    upstream = torch.rand(args.steps, args.batch, args.hidden) * 2 - 1
    params = list(core.parameters())

    def forward():
        with torch.no_grad():
            core(inputs)

    def forward_backward():
        outputs, _ = core(inputs)
        torch.autograd.grad((outputs * upstream).sum(), params)

    return {"network": args.network, "steps": args.steps, "batch": args.batch, "input": args.input, "hidden": args.hidden,
            "forward_ms": median_ms(forward, args.repeats), "forward_backward_ms": median_ms(forward_backward, args.repeats)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("network", choices=["mlp", "gru", "lstm"])
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--input", type=int, default=9)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    result = mlp(args) if args.network == "mlp" else recurrent(args)
    result.update({"torch": torch.__version__, "threads": torch.get_num_threads()})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
