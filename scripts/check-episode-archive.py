#!/usr/bin/env python3
"""Opens the episodes `metarl eval --save-episodes` writes with NumPy and checks them against the
evaluation `metarl eval --json` prints: the same episodes, the same returns.

For a small MAML run and a small RL² run: every step's mean return (over tasks, of each task's
mean episode return) computed from the archive equals the one eval reports; every episode's
rewards sum to its recorded return and its steps are where `episode_start` and `episode_length`
say; the arrays' shapes agree; `info` names the run, the specs and the seed. Needs numpy (the test
command's virtual environment has it).

    python scripts/check-episode-archive.py --binary .build/debug/metarl
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def check(binary, run, archive, extra, failures):
    out = subprocess.run([binary, "eval", str(run), "--tasks", "4", "--json", "--save-episodes", str(archive), *extra],
                         check=True, capture_output=True, text=True).stdout
    report = json.loads(out)
    data = np.load(archive)
    steps, episodes = data["rewards"].shape[0], data["episode_task"].shape[0]
    if data["observations"].shape[0] != steps or data["actions"].shape[0] != steps or data["episode"].shape != (steps,):
        failures.append(f"{run.name}: step arrays of different lengths")
    if data["episode_length"].sum() != steps:
        failures.append(f"{run.name}: episode lengths sum to {data['episode_length'].sum()}, {steps} steps")
    for e in range(episodes):
        start, length = data["episode_start"][e], data["episode_length"][e]
        if not np.all(data["episode"][start:start + length] == e):
            failures.append(f"{run.name}: episode {e}'s steps are not at {start}…{start + length}")
            break
        if abs(float(data["rewards"][start:start + length].astype(np.float64).sum()) - data["episode_return"][e]) > 1e-9:
            failures.append(f"{run.name}: episode {e}'s rewards do not sum to its return")
            break
    for step in report["steps"]:
        k = step["step"]
        per_task = [data["episode_return"][(data["episode_task"] == t) & (data["episode_step"] == k)].mean()
                    for t in range(report["tasks"])]
        if abs(np.mean(per_task) - step["mean_return"]) > 1e-9 * max(1, abs(step["mean_return"])):
            failures.append(f"{run.name}: step {k}: {np.mean(per_task)} from the archive, {step['mean_return']} from eval")
    info = json.loads(str(data["info"]))
    if info["run"] != str(run) or info["seed"] != report["provenance"]["seed"] or len(data["tasks"]) != report["tasks"]:
        failures.append(f"{run.name}: info {info['run']}, seed {info['seed']}, {len(data['tasks'])} tasks")
    return steps, episodes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True, help="the metarl executable")
    args = parser.parse_args()
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            ("maml", ["navigation", "--meta-batch-size", "3", "--fast-batch-size", "3", "--hidden", "8", "--iterations", "2"],
             ["--steps", "2", "--episodes", "3", "--spec", "navigation-far"]),
            ("rl2", ["gridnavi-5x5", "--algo", "rl2", "--meta-batch-size", "4", "--rl2-hidden", "8", "--iterations", "5"],
             ["--trials", "3"]),
        ]
        for name, train, evaluate in runs:
            run = Path(tmp) / name
            subprocess.run([args.binary, "train", *train, "--out", str(run)], check=True, stdout=subprocess.DEVNULL)
            steps, episodes = check(args.binary, run, Path(tmp) / f"{name}.npz", evaluate, failures)
            print(f"{name}: {episodes} episodes, {steps} steps read back by NumPy" + ("" if failures else ": all agree"))
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
