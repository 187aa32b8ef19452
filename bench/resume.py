#!/usr/bin/env python3
"""Load balance and resume on one workload (issue 8): daily series of 1,000 days (price and promotion covariates),
`--models auto`, H = 28, under `mpirun -n RANKS`. Each repetition runs, in turn:
  - static:  an uninterrupted run with --schedule static;
  - dynamic: the same with --schedule dynamic;
  - killed:  a static run SIGKILLed (mpirun and every rank at once) when its journal holds half the models,
             then `--resume`: the resumed run's wall time against the uninterrupted static run's time for the
             models left (its median wall time x the share of models the journal lacked), and the time it took
             to read the journal and write its results into the outputs;
  - baseline (with --baseline BIN, a build without the journal): an uninterrupted static run, for the journal's
             cost in wall time.
The runs of a repetition follow each other, so that a load from elsewhere on the machine weighs on all of them
alike; the CPU seconds (user + system, of mpirun and its ranks) are less sensitive to such a load than the wall
time. Prints each run, then medians: wall and CPU seconds, imbalance (largest rank's busy seconds over the mean),
the journal's share of the run (the ranks' main threads handing batches to it and waiting for its last sync,
largest rank, over the wall time; and its own thread's write + fdatasync time), and the resume figures.
  usage: bench/resume.py [--dir DIR] [--stores 40] [--items 50] [--ranks 2] [--batch 512] [--repeat 5]
                         [--baseline BIN]"""
import argparse
import glob
import json
import os
import resource
import signal
import statistics
import struct
import subprocess
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--dir", default="/tmp/mm-resume")
ap.add_argument("--stores", type=int, default=40)
ap.add_argument("--items", type=int, default=50)
ap.add_argument("--ranks", type=int, default=2)
ap.add_argument("--batch", type=int, default=512)
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--baseline")
a = ap.parse_args()
MM = os.environ.get("MANYMODELS", os.path.join(HERE, "build", "manymodels"))
os.makedirs(a.dir, exist_ok=True)
os.chdir(a.dir)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
MODELS = a.stores * a.items
lake = f"lake-{a.stores}x{a.items}.h5"
if not os.path.exists(lake):
    subprocess.run([MM, "generate", "--out", "panel.csv", "--stores", str(a.stores), "--items", str(a.items),
                    "--length", "1000", "--seed", "1"], check=True)
    subprocess.run([MM, "ingest", "--input", "panel.csv", "--keys", "store,item", "--time", "date", "--target",
                    "sales", "--covariates", "price,promo", "--out", lake], check=True)
print(f"machine: {os.uname().nodename}, {os.cpu_count()} CPUs; {MODELS} series x 1,000 days, auto, H=28, "
      f"{a.ranks} ranks, --batch {a.batch}")


def command(binary, reg, *extra):
    return ["mpirun", "-n", str(a.ranks), binary, "train", "--lake", lake, "--horizon", "28", "--registry",
            reg + ".h5", "--predictions", reg + "-pred.h5", "--batch", str(a.batch), "--quiet",
            "--summary-json", reg + ".json", *extra]


def journal_models(reg):
    n = 0
    for f in glob.glob(reg + ".h5.journal/*.records"):
        data = open(f, "rb").read()
        at = 0
        while at + 12 <= len(data):
            size = struct.unpack_from("<I", data, at + 4)[0]
            if at + 12 + size > len(data):
                break
            n += struct.unpack_from("<Q", data, at + 12 + 9)[0]
            at += 12 + size
    return n


def cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(cmd):
    """Wall and CPU seconds (user + system of the command and the processes it waited for: mpirun's ranks)."""
    t, c0 = time.perf_counter(), cpu()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t, cpu() - c0


def figures(reg, times):
    wall, cpu_s = times
    s = json.load(open(reg + ".json"))
    ranks = s.get("ranks", [])
    return {"wall": wall, "cpu": cpu_s, "imbalance": s.get("imbalance", float("nan")),
            "journal_share": max((r.get("journal_seconds", 0) for r in ranks), default=0) / wall,
            "journal_sync": max((r.get("journal_sync_seconds", 0) for r in ranks), default=0),
            "busy": [round(r.get("busy_seconds", r.get("fit_seconds", 0)), 2) for r in ranks]}


rows = {k: [] for k in ("static", "dynamic", "baseline", "killed")}
for rep in range(a.repeat):
    for schedule in ("static", "dynamic"):
        reg = f"{schedule}{rep}"
        rows[schedule].append(figures(reg, timed(command(MM, reg, "--schedule", schedule))))
        print(schedule, rows[schedule][-1], flush=True)
    if a.baseline:
        reg = f"baseline{rep}"
        rows["baseline"].append(figures(reg, timed(command(a.baseline, reg))))
        print("baseline", rows["baseline"][-1], flush=True)
    # Killed at half, then resumed.
    reg = f"killed{rep}"
    t0 = time.perf_counter()
    proc = subprocess.Popen(command(MM, reg), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while journal_models(reg) < MODELS // 2 and proc.poll() is None:
        time.sleep(0.05)
    to_kill = time.perf_counter() - t0
    ranks = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    for pid in [proc.pid, *map(int, ranks)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()
    time.sleep(0.5)
    journaled = journal_models(reg)
    resume_wall, resume_cpu = timed(command(MM, reg, "--resume"))
    s = json.load(open(reg + ".json"))
    # The uninterrupted static run of this repetition, for the models the journal lacked.
    left = (MODELS - s["from_journal"]) / MODELS
    remaining, remaining_cpu = rows["static"][-1]["wall"] * left, rows["static"][-1]["cpu"] * left
    rows["killed"].append({"to_kill": to_kill, "journaled": journaled, "from_journal": s["from_journal"],
                           "journal_read": s["journal_read_seconds"], "resume_wall": resume_wall,
                           "remaining_uninterrupted": remaining, "overhead": resume_wall - remaining,
                           "resume_cpu": resume_cpu, "remaining_cpu": remaining_cpu,
                           "overhead_cpu": resume_cpu - remaining_cpu})
    print("killed", {k: round(v, 2) for k, v in rows["killed"][-1].items()}, flush=True)

print("\nmedians over", a.repeat, "repetitions:")
for k in ("static", "dynamic", "baseline"):
    if rows[k]:
        med = {f: statistics.median(r[f] for r in rows[k])
               for f in ("wall", "cpu", "imbalance", "journal_share", "journal_sync")}
        print(f"  {k:8s} wall {med['wall']:.2f} s, CPU {med['cpu']:.2f} s, imbalance {med['imbalance']:.3f}, journal "
              f"share {100 * med['journal_share']:.2f} % (its thread: {med['journal_sync']:.2f} s)")
for k in ("dynamic", "baseline"):
    if rows[k]:
        ratio = {f: statistics.median(b[f] / st[f] for st, b in zip(rows["static"], rows[k])) for f in ("wall", "cpu")}
        print(f"  {k} / static in the same repetition: wall {ratio['wall']:.3f}, CPU {ratio['cpu']:.3f}")
if rows["killed"]:
    med = {f: statistics.median(r[f] for r in rows["killed"]) for f in rows["killed"][0]}
    print(f"  killed   at {med['to_kill']:.2f} s with {med['journaled']:.0f} models journaled; resumed in "
          f"{med['resume_wall']:.2f} s (reading the journal: {med['journal_read']:.2f} s) against "
          f"{med['remaining_uninterrupted']:.2f} s for the models left in an uninterrupted run: "
          f"{med['overhead']:+.2f} s ({100 * med['overhead'] / med['remaining_uninterrupted']:+.1f} %); CPU "
          f"{med['resume_cpu']:.2f} s against {med['remaining_cpu']:.2f} s ({med['overhead_cpu']:+.2f} s)")
