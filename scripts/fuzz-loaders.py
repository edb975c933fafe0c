#!/usr/bin/env python3
"""Fuzzes the spec and settings loaders through the built `metarl`: mutates the shipped specs
(and their map files) and settings files — keys dropped or renamed, values of the wrong type,
extreme and non-finite numbers, truncated text, random bytes, broken maps — and runs each case as
`metarl envs show` or a one-iteration `metarl train`. Every case must exit 0 or 2 (a refusal); an
exit by a signal (a trap, an abort) or any other status is a failure, printed with its input.

    python3 scripts/fuzz-loaders.py --binary .build/debug/metarl --cases 2000 --seed 1
    python3 scripts/fuzz-loaders.py --binary .build-release/release/metarl --minutes 10

Ends with one line, `N passed, M failed`, and a non-zero status when any case failed.
"""
import argparse, os, random, re, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUMBERS = ["nan", "inf", "-inf", "+inf", "1e300", "-1e300", "1e-300", "0", "-0.0", "-1", "1e6", "1000001",
           "9223372036854775807", "-9223372036854775808", "2147483648", "0.5", "7", "-7.5"]
WRONG_TYPES = ['"text"', "true", "[]", "[1, 2, 3]", "{ a = 1 }", "[[1, 2], [3]]", '""', "1979-05-27", "{}"]
MAP_CHARACTERS = ".#~GKDd'S><^vX \t"


def specs():
    found = []
    for folder, _, files in os.walk(os.path.join(ROOT, "envs")):
        found += [os.path.join(folder, f) for f in files if f.endswith(".toml")]
    return sorted(found)


def settings_files():
    folder = os.path.join(ROOT, "configs")
    return sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(".toml"))


def value_spans(text):
    """(start, end) of every value after `key =` and of every number anywhere."""
    spans = [(m.start(1), m.end(1)) for m in re.finditer(r"^\s*[\w.]+\s*=\s*(.+?)\s*$", text, re.M)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"(?<![\w.])-?\d+(\.\d+)?(e-?\d+)?", text)]
    return spans


def mutate_toml(text, rng):
    lines = text.split("\n")
    kind = rng.choice(["drop", "rename", "type", "number", "number", "truncate", "bytes", "duplicate", "table"])
    if kind == "drop":
        keyed = [i for i, l in enumerate(lines) if "=" in l or l.startswith("[")]
        if keyed:
            del lines[rng.choice(keyed)]
        return "\n".join(lines), kind
    if kind == "rename":
        keyed = [i for i, l in enumerate(lines) if re.match(r"^\s*\w+\s*=", l)]
        if keyed:
            i = rng.choice(keyed)
            lines[i] = re.sub(r"^(\s*)(\w+)", lambda m: m.group(1) + rng.choice([m.group(2)[:-1], m.group(2) + "s", m.group(2).upper(), "zz_" + m.group(2)]), lines[i], 1)
        return "\n".join(lines), kind
    if kind in ("type", "number"):
        spans = value_spans(text)
        if not spans:
            return text, kind
        start, end = rng.choice(spans)
        replacement = rng.choice(WRONG_TYPES if kind == "type" else NUMBERS)
        return text[:start] + replacement + text[end:], kind
    if kind == "truncate":
        return text[: rng.randrange(len(text) + 1)], kind
    if kind == "bytes":
        data = bytearray(text.encode())
        for _ in range(rng.randint(1, 8)):
            data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
        return data.decode("utf-8", errors="surrogateescape"), kind
    if kind == "duplicate":
        keyed = [l for l in lines if "=" in l]
        if keyed:
            lines.insert(rng.randrange(len(lines) + 1), rng.choice(keyed))
        return "\n".join(lines), kind
    # A table header moved, added or broken.
    header = rng.choice(["[reward]", "[termination]", "[obstacles]", "[maml]", "[map]", "[[x]]", "[", "[reward.kind]"])
    lines.insert(rng.randrange(len(lines) + 1), header)
    return "\n".join(lines), kind


def mutate_map(text, rng):
    lines = text.split("\n")
    kind = rng.choice(["cell", "row", "empty", "wide", "start"])
    if kind == "cell" and lines:
        r = rng.randrange(len(lines))
        if lines[r]:
            c = rng.randrange(len(lines[r]))
            lines[r] = lines[r][:c] + rng.choice(MAP_CHARACTERS) + lines[r][c + 1:]
    elif kind == "row" and lines:
        del lines[rng.randrange(len(lines))]
    elif kind == "empty":
        return "", "map-empty"
    elif kind == "wide":
        lines = [l * rng.randint(2, 80) for l in lines]
    else:
        lines = [l.replace("S", ".").replace(">", ".") for l in lines]
    return "\n".join(lines), "map-" + kind


def write(path, text):
    with open(path, "wb") as f:
        f.write(text.encode("utf-8", errors="surrogateescape"))


def run_case(binary, rng, work):
    """Builds and runs one case; returns (ok, description)."""
    case = tempfile.mkdtemp(dir=work)
    try:
        use_train = rng.random() < 0.15
        spec_path = rng.choice(specs())
        name = os.path.basename(spec_path)
        spec_text = open(spec_path, encoding="utf-8").read()
        # Map files beside the spec come along, so relative map names resolve; some get broken.
        for other in os.listdir(os.path.dirname(spec_path)):
            if other.endswith(".txt"):
                shutil.copy(os.path.join(os.path.dirname(spec_path), other), case)
        kinds = []
        maps = [f for f in os.listdir(case) if f.endswith(".txt")]
        if maps and re.search(r'map\s*=\s*"', spec_text) and rng.random() < 0.3:
            chosen = os.path.join(case, rng.choice(maps))
            text, kind = mutate_map(open(chosen).read(), rng)
            write(chosen, text)
            kinds.append(kind)
        else:
            spec_text, kind = mutate_toml(spec_text, rng)
            kinds.append(kind)
        spec_file = os.path.join(case, name)
        write(spec_file, spec_text)
        if use_train:
            out = os.path.join(case, "run")
            small = ["--iterations", "1", "--meta-batch-size", "2", "--fast-batch-size", "2", "--hidden", "8", "--threads", "1"]
            if rng.random() < 0.5:
                settings = open(rng.choice(settings_files()), encoding="utf-8").read()
                settings, kind = mutate_toml(re.sub(r'^spec\s*=.*$', f'spec = "{name}"', settings, flags=re.M), rng)
                kinds.append("settings-" + kind)
                settings_file = os.path.join(case, "run.toml")
                write(settings_file, settings)
                args = [binary, "train", "--config", settings_file, "--out", out] + small
            else:
                args = [binary, "train", spec_file, "--out", out] + small
        else:
            args = [binary, "envs", "show", spec_file, "--tasks", str(rng.choice([0, 1, 3]))]
        try:
            result = subprocess.run(args, capture_output=True, timeout=120)
        except subprocess.TimeoutExpired:
            return False, f"timed out: {' '.join(args)} ({', '.join(kinds)})", case
        ok = result.returncode in (0, 2)
        if ok and result.returncode == 2 and len(result.stderr.decode(errors="replace").strip().split("\n")) > 3:
            ok = False   # a refusal is one short message, not a dump
        status = f"signal {-result.returncode}" if result.returncode < 0 else f"status {result.returncode}"
        return ok, f"{status}: {' '.join(args[1:3])} ({', '.join(kinds)})\n{result.stderr.decode(errors='replace')[-600:]}", case
    finally:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "metarl"))
    parser.add_argument("--cases", type=int, default=2000, help="cases to run (ignored with --minutes)")
    parser.add_argument("--minutes", type=float, help="run for this long instead of a number of cases")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="metarl-fuzz-")
    deadline = time.time() + args.minutes * 60 if args.minutes else None
    passed = failed = 0
    refused = 0
    try:
        while (deadline and time.time() < deadline) or (not deadline and passed + failed < args.cases):
            ok, description, case = run_case(args.binary, rng, work)
            if ok:
                passed += 1
                refused += description.startswith("status 2")
                shutil.rmtree(case, ignore_errors=True)
            else:
                failed += 1
                print(f"FAILED case {passed + failed} (kept in {case}): {description}", flush=True)
    finally:
        if failed == 0:
            shutil.rmtree(work, ignore_errors=True)
    print(f"fuzz: {passed + failed} cases, {refused} refused with status 2, {passed - refused} accepted")
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
