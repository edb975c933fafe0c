#!/usr/bin/env python3
"""Reads a run's TensorBoard events with TensorBoard's own reader and compares them with the run's
progress.csv and eval.csv, value for value.

Trains a small MAML run and a small RL² run, each stopped and resumed once (a resumed run rewrites
its event file from the rows it keeps), then checks for every numeric column of progress.csv that
TensorBoard sees the same steps, the same values (as float32) and the wall times of `time/wall`,
and for eval.csv the return of every evaluation step. Needs the `tensorboard` package (the test
command installs it in a virtual environment).

    python scripts/check-tensorboard.py --binary .build/debug/metarl
"""
import argparse
import csv
import math
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def as_float32(value):
    return struct.unpack("f", struct.pack("f", value))[0]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def scalars(run):
    accumulator = EventAccumulator(str(run), size_guidance={"scalars": 0})
    accumulator.Reload()
    return {tag: accumulator.Scalars(tag) for tag in accumulator.Tags()["scalars"]}


def check_run(run, trial_episodes):
    failures = []
    events = scalars(run)
    progress = read_csv(run / "progress.csv")
    omitted = {"iteration", "time/wall"}
    for column in progress[0].keys():
        if column in omitted:
            continue
        expected = [(int(r["iteration"]), float(r[column]), float(r["time/wall"])) for r in progress if r[column] != ""]
        seen = [(e.step, e.value, e.wall_time) for e in events.get(column, [])]
        if [s for s, _, _ in seen] != [s for s, _, _ in expected]:
            failures.append(f"{run.name}: {column}: steps {[s for s, _, _ in seen]} in the events, {[s for s, _, _ in expected]} in progress.csv")
            continue
        for (step, value, wall), (_, got, got_wall) in zip(expected, seen):
            if not (got == as_float32(value) or (math.isnan(got) and math.isnan(value))):
                failures.append(f"{run.name}: {column} at {step}: {got} in the events, {value} in progress.csv")
            if abs(got_wall - wall) > 1e-3:
                failures.append(f"{run.name}: {column} at {step}: wall time {got_wall}, progress.csv says {wall}")
    evaluations = read_csv(run / "eval.csv")
    for row in evaluations:
        k = int(row["step"])
        tag = f"eval/return_episode_{k + 1}" if trial_episodes else f"eval/return_after_{k}_steps"
        match = [e for e in events.get(tag, []) if e.step == int(row["iteration"])]
        if len(match) != 1 or match[0].value != as_float32(float(row["mean_return"])):
            failures.append(f"{run.name}: {tag} at {row['iteration']}: {[m.value for m in match]} in the events, {row['mean_return']} in eval.csv")
    return failures, len(progress), len(evaluations), len(events)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True, help="the metarl executable")
    args = parser.parse_args()
    runs = [
        ("maml", ["navigation", "--meta-batch-size", "3", "--fast-batch-size", "3", "--hidden", "8"], 3, 5, False),
        ("rl2", ["gridnavi-5x5", "--algo", "rl2", "--meta-batch-size", "4", "--rl2-hidden", "8"], 30, 50, True),
    ]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, arguments, first, total, trial_episodes in runs:
            run = Path(tmp) / name
            subprocess.run([args.binary, "train", *arguments, "--iterations", str(first), "--eval-every", "2", "--eval-tasks", "3",
                            "--out", str(run)], check=True, stdout=subprocess.DEVNULL)
            subprocess.run([args.binary, "train", "--resume", str(run), "--iterations", str(total)],
                           check=True, stdout=subprocess.DEVNULL)
            found, rows, evaluations, tags = check_run(run, trial_episodes)
            failures += found
            print(f"{name}: {rows} progress rows, {evaluations} evaluation rows, {tags} tags read back by TensorBoard"
                  + ("" if found else ": all equal"))
    for failure in failures:
        print(failure, file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
