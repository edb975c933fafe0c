#!/usr/bin/env python3
"""Trains every learner (or the ones named) on a spec for several seeds, evaluates each run on the
held-out tasks, and prints a Markdown table of the returns after 0…k adaptation steps: one row per
learner and seed, and one per learner pooling the seeds (the mean over seeds of each seed's mean,
± the standard error over seeds).

    python3 scripts/compare-learners.py navigation --seeds 1 2 3
    python3 scripts/compare-learners.py gridnavi-5x5 --iterations 200 --steps 2 --learners maml-trpo promp

Runs go to runs/compare/<spec>/<learner>-seed<S>; a run already finished there is evaluated, not
trained again, and an interrupted one is resumed. Extra training flags follow `--`.
"""
import argparse, json, os, statistics, subprocess, sys


def learners(binary):
    """The learner names from `metarl train --help` (the lines under "Learners")."""
    help_text = subprocess.run([binary, "train", "--help"], capture_output=True, text=True, check=True).stdout
    names, inside = [], False
    for line in help_text.splitlines():
        if line.strip().startswith("Learners"):
            inside = True
            continue
        if inside:
            if not line.strip():
                break
            if line.startswith("  ") and not line.startswith("   "):
                names.append(line.split()[0])
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec")
    parser.add_argument("--binary", default=".build-release/release/metarl")
    parser.add_argument("--learners", nargs="*")
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--out", default="runs/compare")
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.extra = argv[split + 1:]  # flags after `--` go to every new `metarl train`
    names = args.learners or learners(args.binary)
    rows = []
    for name in names:
        results = []
        for seed in args.seeds:
            run = os.path.join(args.out, args.spec, f"{name}-seed{seed}")
            manifest = os.path.join(run, "checkpoint.json")
            done = os.path.exists(manifest) and json.load(open(manifest))["iteration"] >= args.iterations
            if not done:
                command = ([args.binary, "train", "--resume", run, "--iterations", str(args.iterations)] if os.path.exists(run)
                           else [args.binary, "train", args.spec, "--algo", name, "--seed", str(seed), "--iterations",
                                 str(args.iterations), "--out", run] + args.extra)
                print("+", " ".join(command), file=sys.stderr, flush=True)
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            evaluation = subprocess.run([args.binary, "eval", run, "--steps", str(args.steps), "--json"],
                                        capture_output=True, text=True, check=True)
            steps = json.loads(evaluation.stdout)["steps"]
            results.append(steps)
            rows.append(f"| {name}, seed {seed} | " + " | ".join(f"{s['mean_return']:.2f} ± {s['stderr']:.2f}" for s in steps) + " |")
        if len(results) > 1:
            pooled = []
            for k in range(args.steps + 1):
                means = [r[k]["mean_return"] for r in results]
                pooled.append(f"{statistics.mean(means):.2f} ± {statistics.stdev(means) / len(means) ** 0.5:.2f}")
            rows.append(f"| **{name}**, {len(results)} seeds | " + " | ".join(pooled) + " |")
    print(f"| {args.spec}, {args.iterations} iterations | " + " | ".join(f"{k} steps" for k in range(args.steps + 1)) + " |")
    print("|---|" + "---|" * (args.steps + 1))
    print("\n".join(rows))


if __name__ == "__main__":
    main()
