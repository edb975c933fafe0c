#!/usr/bin/env python3
"""Checks that a run shared among MPI processes is the run of one process, bit for bit.

For every gradient-based learner, trains a small run in one process and the same run under
`mpirun -np 2` (three tasks, so the ranks hold one and two), and compares the checkpoints byte for
byte and progress.csv in every column but the wall-clock timings; then a gridworld run
(categorical policy), a run of two ranks stopped and resumed by two ranks, a sweep spread over
the ranks, and RL² with a GRU and an LSTM (seven trials in batches of two, so that the ranks hold
unequal shares of the batches and of each minibatch's pieces). Needs a metarl built with the
Distributed trait and Open MPI's mpirun.

    python3 scripts/check-mpi.py --binary .build-mpi/debug/metarl
"""
import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

LEARNERS = ["maml-trpo", "maml-vpg", "maml-ppo", "fo-maml", "pretrained", "promp", "e-maml", "dice", "meta-sgd", "cavia", "reptile"]


def columns_without_times(run):
    with open(run / "progress.csv", newline="") as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if not name.startswith("time/")]
    return [[row[i] for i in keep] for row in rows]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True, help="a metarl built with --traits Distributed")
    parser.add_argument("--ranks", type=int, default=2)
    args = parser.parse_args()
    environment = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    mpirun = ["mpirun", "--oversubscribe", "-np", str(args.ranks)]
    failures = []

    def train(arguments, ranks):
        command = (mpirun if ranks > 1 else []) + [args.binary, "train", *arguments]
        done = subprocess.run(command, env=environment, capture_output=True, text=True)
        if done.returncode != 0:
            failures.append(f"{' '.join(command)}: status {done.returncode}: {done.stderr.strip()[-400:]}")
        return done.returncode == 0

    def same(name, one, many):
        if (one / "checkpoint.safetensors").read_bytes() != (many / "checkpoint.safetensors").read_bytes():
            failures.append(f"{name}: the checkpoints differ")
        elif columns_without_times(one) != columns_without_times(many):
            failures.append(f"{name}: progress.csv differs")
        else:
            return True
        return False

    small = ["--meta-batch-size", "3", "--fast-batch-size", "2", "--hidden", "8", "--threads", "1"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cases = [(f"navigation {a}", ["navigation", "--algo", a, "--iterations", "2", *small]) for a in LEARNERS]
        cases.append(("gridnavi-5x5 maml-trpo", ["gridnavi-5x5", "--iterations", "2", *small]))
        for i, (name, arguments) in enumerate(cases):
            one, many = tmp / f"one-{i}", tmp / f"many-{i}"
            if train(arguments + ["--out", str(one)], 1) and train(arguments + ["--out", str(many)], args.ranks):
                if same(name, one, many):
                    print(f"{name}: {args.ranks} processes give the one-process run, bit for bit")
        # Stopped after 2 iterations and resumed for a third, by two ranks each time.
        one, many = tmp / "resume-one", tmp / "resume-many"
        base = ["navigation", *small]
        if (train(base + ["--iterations", "3", "--out", str(one)], 1)
                and train(base + ["--iterations", "2", "--out", str(many)], args.ranks)
                and train(["--resume", str(many), "--iterations", "3", "--threads", "1"], args.ranks)):
            if same("resumed", one, many):
                print(f"resumed under {args.ranks} processes: the one-process run, bit for bit")
        # A sweep spread over the ranks: each run is the run `metarl sweep` makes in one process.
        sweep = tmp / "sweep.toml"
        sweep.write_text('seeds = [1, 2, 3]\n[settings]\nspec = "navigation"\niterations = 2\nmeta-batch-size = 2\n'
                         'fast-batch-size = 2\nhidden = [8]\n')
        plain = subprocess.run([args.binary, "sweep", str(sweep), "--out", str(tmp / "sweep-one")], env=environment,
                               capture_output=True, text=True)
        spread = subprocess.run(mpirun + [args.binary, "sweep", str(sweep), "--mpi", "--out", str(tmp / "sweep-many")],
                                env=environment, capture_output=True, text=True)
        if plain.returncode != 0 or spread.returncode != 0:
            failures.append(f"sweep --mpi: status {plain.returncode}, {spread.returncode}: {spread.stderr.strip()[-300:]}")
        else:
            runs = [f"seed={s}" for s in (1, 2, 3)]
            ranks = {line.split(":")[0] for line in spread.stdout.splitlines() if line.startswith("rank ")}
            if all(same(f"sweep --mpi {r}", tmp / "sweep-one" / r, tmp / "sweep-many" / r) for r in runs) and len(ranks) == args.ranks:
                print(f"sweep --mpi: {len(runs)} runs spread over {len(ranks)} ranks, each the run of a plain sweep")
            elif len(ranks) != args.ranks:
                failures.append(f"sweep --mpi: runs started by {sorted(ranks)}")
        # RL²: the ranks share the batches of trials and the pieces of each minibatch.
        for name, spec, cell in [("gridnavi-5x5 rl2 (GRU)", "gridnavi-5x5", "gru"), ("sparse-semicircle-trials rl2 (LSTM)", "sparse-semicircle-trials", "lstm")]:
            config = tmp / f"rl2-{cell}.toml"
            config.write_text(f'spec = "{spec}"\nalgorithm = "rl2"\niterations = 3\nmetaBatchSize = 7\nthreads = 1\n'
                              f'[rl2]\ncell = "{cell}"\nhiddenSize = 6\ntrialsPerBatch = 2\nminibatches = 2\nnormalisesRewards = true\n')
            one, many = tmp / f"rl2-one-{cell}", tmp / f"rl2-many-{cell}"
            if train(["--config", str(config), "--out", str(one)], 1) and train(["--config", str(config), "--out", str(many)], args.ranks):
                if same(name, one, many):
                    print(f"{name}: {args.ranks} processes give the one-process run, bit for bit")
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
