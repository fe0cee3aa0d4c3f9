#!/usr/bin/env python3
"""End-to-end benchmark of `dragnet scan` on the embedded default (`just bench`).

Generates Synthea-format data with the project's own generator, scans it with managed
identifiers ALL plus the walkthrough's three custom identifiers, and reports MB/s, objects/s,
CPU time and peak RSS, next to a reference pass of ripgrep (`rg -o` with the reference
pattern set) over the same files, in the same run. Also measures thread scaling, the cost of
extra custom identifiers, object-size scaling and bounded memory on one huge single-line object.

Every figure comes from this machine in this run; results are printed as Markdown and written
to bench/results/<date>.md.
"""

import argparse
import csv
import datetime
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BIN = REPO / "target" / "release" / "dragnet"
BUCKET = "synthea-data-111222333444-us-east-1"
CUSTOM_IDS = json.loads((REPO / "sample-data" / "custom-identifiers.json").read_text())
RG_PATTERNS = [
    r"\b\d{3}-\d{2}-\d{4}\b",
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"\b(?:\d[ -]?){13,19}\b",
    r"\b\(?\d{3}\)?[-. ]?\d{3}[-. ]?\d{4}\b",
    r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b",
    r"AKIA[0-9A-Z]{16}",
    r"[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}",
    r"S\d{8}",
    r"X\d{8}X",
]


ENV = dict(os.environ, DRAGNET_REPORT_PEAK_RSS="1")


def peak_rss_mb(stderr, fallback_kb):
    """dragnet reports its own VmHWM; for other programs, ru_maxrss (an upper bound: Linux
    keeps the forking parent's high-water mark across exec)."""
    for line in stderr.decode(errors="replace").splitlines():
        if line.startswith("dragnet-peak-rss-kb:"):
            return int(line.split(":")[1]) / 1024
    return fallback_kb / 1024


def run(cmd, stdin=None, cwd=None):
    """Runs cmd; returns (wall seconds, user+sys CPU seconds, peak RSS MB, stdout bytes).
    Runs are sequential, so the CPU time is the change in the children's usage."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run(cmd, stdin=stdin, capture_output=True, cwd=cwd, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        sys.exit(f"{' '.join(map(str, cmd))} failed with status {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall, cpu, peak_rss_mb(p.stderr, after.ru_maxrss), p.stdout


def job_spec(path, key_prefix=None):
    spec = json.loads((REPO / "sample-data" / "jobs" / "one-time.json").read_text())
    spec["customDataIdentifierIds"] = [c["id"] for c in CUSTOM_IDS]
    if key_prefix is not None:
        spec["s3JobDefinition"]["scoping"] = {"includes": {"and": [{"simpleScopeTerm": {"comparator": "STARTS_WITH", "key": "OBJECT_KEY", "values": [key_prefix]}}]}}
    path.write_text(json.dumps(spec))
    return path


def identifiers(path, extra):
    extra_ids = [
        {"id": f"bench-{i}", "name": f"Employee {i}", "regex": f"EMP{i:03d}-\\d{{6}}", "keywords": [f"employee{i}"]}
        for i in range(extra)
    ]
    path.write_text(json.dumps(CUSTOM_IDS + extra_ids))
    return path


def scan(work, spec, ids, threads, extra_args=()):
    cmd = [str(BIN), "scan", "--job", str(spec), "--identifiers", str(ids), "--out", str(work / "out"), "--no-events", "--threads", str(threads), *extra_args]
    wall, cpu, rss, out = run(cmd, cwd=work)
    stats = json.loads(out)["runStatistics"]
    mb = stats["bytesScanned"] / 1e6
    return {"wall": wall, "cpu": cpu, "rss": rss, "mb": mb, "mbps": mb / wall, "objects": stats["objectsScanned"], "ops": stats["objectsScanned"] / wall, "findings": stats["findings"]["total"]}


def slower(mbps, base):
    """How much slower than `base` a run was, in words ("3% slower", "2% faster")."""
    change = (1 - mbps / base) * 100
    return f"{change:.0f}% slower" if change >= 0 else f"{-change:.0f}% faster"


def median_of(runs, measure):
    """The run with the median wall time of `runs` runs of `measure` (single runs of about a
    second vary by 10-20% here, mostly the first one after the data was written)."""
    results = sorted((measure() for _ in range(runs)), key=lambda r: r["wall"])
    return results[len(results) // 2]


def ensure_rg():
    if shutil.which("rg"):
        return shutil.which("rg")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "ripgrep"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return shutil.which("rg")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="Synthea scale (1 is about 80 MB)")
    ap.add_argument("--huge-gb", type=float, default=2.0, help="size of the single-line object for the memory check")
    ap.add_argument("--mask-gb", type=float, default=1.0, help="size of the JSON Lines stream for the masking run")
    ap.add_argument("--no-build", action="store_true")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dragnet-bench-") as tmp:
        work = Path(tmp)
        data = work / "buckets" / BUCKET
        subprocess.run([str(BIN), "sample-data", "--scale", str(args.scale), "--out", str(data), "--csv-only"], check=True, stderr=subprocess.DEVNULL)
        (work / "dragnet.toml").write_text('account_id = "111222333444"\n[store]\nroot = "buckets"\n')
        ids = identifiers(work / "ids.json", 0)
        spec = job_spec(work / "job.json")
        files = sorted(str(p) for p in data.glob("*.csv"))
        total_mb = sum(os.path.getsize(f) for f in files) / 1e6

        cores = os.cpu_count() or 1
        main_run = median_of(3, lambda: scan(work, spec, ids, cores))
        rows.append(("dragnet scan, ALL + 3 custom, %d threads (median of 3)" % cores, main_run))
        one = median_of(3, lambda: scan(work, spec, ids, 1))
        rows.append(("dragnet scan, ALL + 3 custom, 1 thread (median of 3)", one))

        rg = ensure_rg()
        rg_row = None
        if rg:
            cmd = [rg, "-o", "--no-filename", "--threads", str(cores)] + [a for p in RG_PATTERNS for a in ("-e", p)] + files

            def rg_once():
                wall, cpu, rss, out = run(cmd)
                return {"wall": wall, "cpu": cpu, "rss": rss, "mb": total_mb, "mbps": total_mb / wall, "objects": len(files), "ops": len(files) / wall, "findings": out.count(b"\n")}

            rg_row = median_of(3, rg_once)
            rows.append(("rg -o, reference pattern set, %d threads (matches printed, median of 3)" % cores, rg_row))

        # Custom identifier cost. A job takes at most 30 (Macie's quota), so this uses
        # `dragnet classify` on the largest file, which loads every identifier it is given.
        big = data / "observations.csv"
        big_mb = os.path.getsize(big) / 1e6
        cost = {}
        for extra in (0, 10, 100, 500):
            ids_n = identifiers(work / f"ids-{extra}.json", extra)
            wall, cpu, rss, out = run([str(BIN), "classify", str(big), "--managed", "ALL", "--identifiers", str(ids_n)], cwd=work)
            cost[extra] = {"wall": wall, "cpu": cpu, "rss": rss, "mb": big_mb, "mbps": big_mb / wall, "objects": 1, "ops": 1 / wall, "findings": 1 if json.loads(out).get("findingId") else 0}
            rows.append((f"dragnet classify observations.csv, ALL + {3 + extra} custom", cost[extra]))

        # Object sizes: 2,000 objects of about 1 KB; one of 10 MB.
        small = work / "buckets" / BUCKET / "small"
        small.mkdir()
        patients = (data / "patients.csv").read_text().splitlines()
        for i in range(2000):
            (small / f"p{i:04d}.csv").write_text("\n".join([patients[0]] + patients[1 + (i * 3) % (len(patients) - 4): 4 + (i * 3) % (len(patients) - 4)]) + "\n")
        rows.append(("2,000 objects of ~1 KB", scan(work, job_spec(work / "small.json", "small/"), ids, cores)))
        mid = work / "buckets" / BUCKET / "mid"
        mid.mkdir()
        with open(data / "observations.csv", "rb") as src, open(mid / "ten-mb.csv", "wb") as dst:
            dst.write(src.read(10_000_000).rsplit(b"\n", 1)[0] + b"\n")
        rows.append(("1 object of 10 MB", scan(work, job_spec(work / "mid.json", "mid/"), ids, cores)))

        # One text object (observations.csv as `key=value` log lines), on one thread and on
        # every core: its lines are split across threads as a CSV file's cells are.
        logs = work / "buckets" / BUCKET / "logs"
        logs.mkdir()
        with open(data / "observations.csv", newline="") as src, open(logs / "app.log", "w") as dst:
            reader = csv.reader(src)
            header = [h.lower() for h in next(reader)]
            for record in reader:
                dst.write(" ".join(f"{k}={v}" for k, v in zip(header, record)) + "\n")
        log_spec = job_spec(work / "logs.json", "logs/")
        log_one = median_of(3, lambda: scan(work, log_spec, ids, 1))
        log_all = median_of(3, lambda: scan(work, log_spec, ids, cores))
        rows.append(("1 text object of log lines, 1 thread (median of 3)", log_one))
        rows.append((f"1 text object of log lines, {cores} threads (median of 3)", log_all))

        # One JSON Lines object of about 50 MB (the sample's landing/ patients and Step
        # Functions events, repeated), on one thread and on every core: its lines are parsed
        # and scanned in pieces across threads.
        subprocess.run([str(BIN), "sample-data", "--scale", "0.1", "--out", str(work / "variants")], check=True, stderr=subprocess.DEVNULL)
        landing = work / "variants" / "landing"
        events = (landing / "patients.jsonl").read_bytes() + (landing / "sfn-executions.jsonl").read_bytes()
        (work / "buckets" / BUCKET / "jsonl").mkdir()
        with open(work / "buckets" / BUCKET / "jsonl" / "events.jsonl", "wb") as dst:
            for _ in range(max(1, 50_000_000 // len(events))):
                dst.write(events)
        jsonl_spec = job_spec(work / "jsonl.json", "jsonl/")
        jsonl_one = median_of(3, lambda: scan(work, jsonl_spec, ids, 1))
        jsonl_all = median_of(3, lambda: scan(work, jsonl_spec, ids, cores))
        rows.append(("1 JSON Lines object, 1 thread (median of 3)", jsonl_one))
        rows.append((f"1 JSON Lines object, {cores} threads (median of 3)", jsonl_all))

        # Bounded memory: one single-line object of huge-gb GB, streamed through stdin.
        huge_bytes = int(args.huge_gb * 1e9)
        chunk = (b"a" * 1023 + b" ") * 1024
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        p = subprocess.Popen([str(BIN), "classify", "-", "--format", "text", "--managed", "ALL"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        sent = 0
        while sent < huge_bytes:
            p.stdin.write(chunk)
            sent += len(chunk)
        p.stdin.write(b" ssn 536-22-1234\n")
        p.stdin.close()
        result = json.loads(p.stdout.read())
        err = p.stderr.read()
        p.wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ru_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        found = [d["type"] for c in result["classificationDetails"]["result"]["sensitiveData"] for d in c["detections"]]
        huge = {"wall": wall, "cpu": ru_cpu, "rss": peak_rss_mb(err, after.ru_maxrss), "mb": sent / 1e6, "mbps": sent / 1e6 / wall, "objects": 1, "ops": 1 / wall, "findings": len(found)}
        rows.append((f"1 single-line object of {args.huge_gb:g} GB (stdin)", huge))
        assert "USA_SOCIAL_SECURITY_NUMBER" in found, "the SSN at the end of the huge line was not found"

        # Masking: a JSON Lines stream of mask-gb GB (the sample's landing/patients.jsonl,
        # repeated) through `dragnet mask - --format jsonl`, output discarded.
        records = (landing / "patients.jsonl").read_bytes()
        mask_bytes = int(args.mask_gb * 1e9)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        p = subprocess.Popen([str(BIN), "mask", "-", "--format", "jsonl"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
        sent = 0
        while sent < mask_bytes:
            p.stdin.write(records)
            sent += len(records)
        p.stdin.close()
        err = p.stderr.read()
        p.wait()
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        mask_row = {"wall": wall, "cpu": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), "rss": peak_rss_mb(err, after.ru_maxrss), "mb": sent / 1e6, "mbps": sent / 1e6 / wall, "objects": 1, "ops": 1 / wall, "findings": 0}
        rows.append((f"dragnet mask, {args.mask_gb:g} GB of JSON Lines (stdin)", mask_row))

    date = datetime.date.today().isoformat()
    cpu = platform.processor() or platform.machine()
    lines = [
        f"# dragnet benchmark, {date}",
        "",
        f"Machine: {cores} cores, {platform.system()} {platform.machine()} ({cpu}). Data: Synthea-format CSV at scale {args.scale:g} ({total_mb:.1f} MB, {len(files)} files), generated by `dragnet sample-data`.",
        f"Command: `python3 bench/run.py --scale {args.scale:g} --huge-gb {args.huge_gb:g} --mask-gb {args.mask_gb:g}` (or `just bench`).",
        "",
        "| run | MB | wall s | MB/s | objects/s | CPU s | peak RSS MB | findings |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows:
        lines.append(f"| {name} | {r['mb']:.1f} | {r['wall']:.2f} | {r['mbps']:.1f} | {r['ops']:.0f} | {r['cpu']:.2f} | {r['rss']:.0f} | {r['findings']} |")
    base = cost[0]["mbps"]
    lines += [
        "",
        f"- Threads: {one['mbps']:.1f} MB/s with 1, {main_run['mbps']:.1f} MB/s with {cores}.",
        f"- One text object's lines: {log_one['mbps']:.1f} MB/s with 1 thread, {log_all['mbps']:.1f} MB/s with {cores}.",
        f"- One JSON Lines object: {jsonl_one['mbps']:.1f} MB/s with 1 thread, {jsonl_all['mbps']:.1f} MB/s with {cores}.",
        "- Custom identifiers (one object): " + ", ".join(f"+{n}: {slower(cost[n]['mbps'], base)}" for n in (10, 100, 500)) + f" than ALL + 3 ({base:.1f} MB/s).",
        f"- Peak RSS for the {args.huge_gb:g} GB single-line object: {huge['rss']:.0f} MB.",
        f"- Masking JSON Lines: {mask_row['mbps']:.1f} MB/s with {mask_row['rss']:.0f} MB peak RSS ({args.mask_gb:g} GB).",
    ]
    if rg_row:
        lines.append(f"- dragnet vs rg on the same files: {main_run['mbps'] / rg_row['mbps']:.2f}x rg's MB/s.")
    else:
        lines.append("- rg was not available (install Debian's ripgrep to compare).")
    report = "\n".join(lines) + "\n"
    print(report)
    out = REPO / "bench" / "results" / f"{date}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
