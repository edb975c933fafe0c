#!/usr/bin/env python3
"""Kills a short training run with SIGKILL at random moments, resumes it after each kill, and checks
that the finished run is the uninterrupted one: `checkpoint.safetensors` and `checkpoint.json`
byte for byte, and `progress.csv` byte for byte in every column but the wall-clock timings
(`time/*`, which no two runs share).

    python3 scripts/kill-and-resume.py --binary .build/debug/metarl --kills 20 --seed 1

Ends with one line, `N passed, M failed`, and a non-zero status on any difference.
"""
import argparse, os, random, shutil, signal, subprocess, sys, tempfile, time

SETTINGS = ["--iterations", "12", "--meta-batch-size", "2", "--fast-batch-size", "3", "--hidden", "8", "--threads", "2", "--seed", "5"]


def without_times(path):
    lines = open(path).read().split("\n")
    keep = [i for i, name in enumerate(lines[0].split(",")) if not name.startswith("time/")]
    return "\n".join(",".join(row.split(",")[i] for i in keep) if row else row for row in lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/debug/metarl")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="metarl-kill-")
    reference, victim = os.path.join(work, "reference"), os.path.join(work, "victim")
    subprocess.run([args.binary, "train", "navigation", "--out", reference] + SETTINGS, check=True, capture_output=True)
    started = time.time()
    subprocess.run([args.binary, "train", "navigation", "--out", os.path.join(work, "timing")] + SETTINGS, check=True, capture_output=True)
    whole = time.time() - started   # the kill moments spread over a whole run's length

    def compare():
        differing = [name for name in ["checkpoint.safetensors", "checkpoint.json"]
                     if open(os.path.join(reference, name), "rb").read() != open(os.path.join(victim, name), "rb").read()]
        if without_times(os.path.join(reference, "progress.csv")) != without_times(os.path.join(victim, "progress.csv")):
            differing.append("progress.csv")
        return differing

    # Runs are killed and resumed until `--kills` kills have landed; a run that completes is
    # compared with the reference and, if kills remain, started again from nothing.
    kills = launches = runs = 0
    failures = []
    while True:
        launches += 1
        has_settings = os.path.exists(os.path.join(victim, "config.toml"))
        command = [args.binary, "train", "--resume", victim] if has_settings else [args.binary, "train", "navigation", "--out", victim] + SETTINGS
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            process.wait(timeout=rng.uniform(0.0, whole) if kills < args.kills else None)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            continue
        error = process.stderr.read().decode()
        if process.returncode != 0:
            failures.append(f"launch {launches}: {' '.join(command[1:3])} exited with {process.returncode}: {error.strip()}")
            break
        runs += 1
        failures += [f"run {runs}: {name} differs from the uninterrupted run's" for name in compare()]
        if kills >= args.kills or failures:
            break
        shutil.rmtree(victim)

    for failure in failures:
        print(failure)
    print(f"kill -9: {kills} kills over {launches} launches in {runs} runs; "
          + ("each resumed run equals the uninterrupted one" if not failures else "FAILED"))
    shutil.rmtree(work, ignore_errors=True)
    print(f"{runs - len(failures) if not failures else 0} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
