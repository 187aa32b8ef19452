#!/usr/bin/env python3
"""Forecast a competition data set (long CSV: id,m,h,split,t,value — see ../shared/data/README.md) with the
real manymodels pipeline: per (m, h) group, ingest the train rows into a lake, train with the chosen models,
export the predictions, and write `id,step,forecast,lo80,hi80,lo95,hi95` (the point forecasts for
../shared/peers/evaluate.py, the 80% and 95% interval bounds for bench/intervals.py).

  bench/competition.py DATA.csv.gz OUT.csv [--models auto] [--season-length 52.18] [--covariates price,disp]
                       [--threads 1] [--ranks 0] [--train-args '--ensemble mean'] [--pool-all | --judge-all] [--score] [--naive2 NAIVE2.csv]
                       [--keep]

--covariates names extra columns of DATA that are known for the test rows too (planned prices, displays): they
are ingested with the train rows and, for the test rows, as future rows with the target left empty, so that the
models see their values over the horizon; the test targets never reach the lake.

Prints the fitting time (train's own figure, one line per group, and the total in ms per series) and the CPU
time of the train processes (user + system, all ranks: reading the lake, fitting and writing) per series. With --score
it runs evaluate.py on the result (and OWA when a Naive2 forecast file is given)."""
import argparse
import atexit
import collections
import csv
import gzip
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("out")
ap.add_argument("--models", default="auto")
ap.add_argument("--season-length", help="cycles for the models (default: the data's m per group)")
ap.add_argument("--covariates", default="", help="columns of DATA known for the test rows too (price,disp)")
ap.add_argument("--threads", default="1")
ap.add_argument("--ranks", type=int, default=0, help="MPI ranks (0: one plain process)")
ap.add_argument("--binary", default=os.environ.get("MANYMODELS", os.path.join(here, "..", "build", "manymodels")))
ap.add_argument("--train-args", default="", help="more train options, e.g. '--ensemble mean --backtest-windows 2'")
ap.add_argument("--pool-all", action="store_true", help="the whole set one pool (train --pool-by pool)")
ap.add_argument("--judge-all", action="store_true", help="the whole set one group judged (train --judge-by pool)")
ap.add_argument("--score", action="store_true")
ap.add_argument("--naive2")
ap.add_argument("--keep", action="store_true", help="keep the lakes, registries and predictions (printed folder)")
ap.add_argument("--evaluate", default=os.path.join(here, "..", "..", "shared", "peers", "evaluate.py"))
a = ap.parse_args()

covariates = [c for c in a.covariates.split(",") if c]
groups = collections.defaultdict(list)  # (m, h) -> rows (id, t, value, covariates...)
opener = gzip.open if a.data.endswith(".gz") else open
with opener(a.data, "rt") as f:
    for r in csv.DictReader(f):
        if r["split"] == "train" or covariates:
            value = r["value"] if r["split"] == "train" else ""
            groups[(int(r["m"]), int(r["h"]))].append((r["id"], r["t"], value, *(r[c] for c in covariates)))

# A SIGTERM (a job's time limit, kill) ends the script as an error does: the running train is killed by
# subprocess.run and the atexit handlers below remove the work folder and the partial forecasts.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
work = tempfile.mkdtemp(prefix="mm_competition_")
if not a.keep:  # removed however the script ends (a failed step included)
    atexit.register(shutil.rmtree, work, True)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
total_seconds, total_series, total_cpu = 0.0, 0, 0.0
part = a.out + ".part"  # the forecasts, put in place only once every group is forecast
atexit.register(lambda: os.path.exists(part) and os.remove(part))
with open(part, "w") as out:
    out.write("id,step,forecast,lo80,hi80,lo95,hi95\n")
    for (m, h), rows in sorted(groups.items()):
        tag = f"m{m}_h{h}"
        src, lake, reg, pred = (os.path.join(work, f"{tag}.{x}") for x in ("csv", "lake.h5", "reg.h5", "pred.h5"))
        with open(src, "w") as f:
            pool = ["pool"] if a.pool_all or a.judge_all else []
            f.write(",".join([*pool, "id", "t", "value", *covariates]) + "\n")
            f.writelines(",".join(["all"] * len(pool) + list(r)) + "\n" for r in rows)
        season = a.season_length or str(m)
        subprocess.run([a.binary, "ingest", "--input", src, "--keys", ",".join(pool + ["id"]), "--time", "t",
                        "--target", "value",
                        "--freq", "N", "--season-length", season, "--out", lake,
                        *(["--covariates", ",".join(covariates)] if covariates else [])], check=True, env=env,
                       capture_output=True)
        launcher = ["mpirun", "-n", str(a.ranks), "--oversubscribe"] if a.ranks else []
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run(launcher + [a.binary, "train", "--lake", lake, "--horizon", str(h), "--models", a.models,
                                       "--registry", reg, "--predictions", pred, "--threads", a.threads, "--quiet",
                                       *a.train_args.split(), *(["--pool-by", "pool"] if a.pool_all else []),
                                       *(["--judge-by", "pool"] if a.judge_all else [])],
                           check=True, env=env, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        total_cpu += after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        secs = float(re.search(r"time\s+([0-9.]+) s", p.stdout).group(1))
        n = len({r[0] for r in rows})
        chosen = re.search(r"chosen\s+(.*)", p.stdout).group(1)
        print(f"{os.path.basename(a.data)} m={m} h={h}: {n} series, train {secs:.2f} s "
              f"({1000 * secs / n:.2f} ms/series); chosen {chosen}")
        total_seconds += secs
        total_series += n
        e = subprocess.run([a.binary, "predictions", "export", "--predictions", pred], check=True, env=env,
                           capture_output=True, text=True)
        for r in csv.DictReader(e.stdout.splitlines()):
            out.write(",".join(r[c] for c in ("id", "step", "forecast", "lo80", "hi80", "lo95", "hi95")) + "\n")
os.replace(part, a.out)
if a.keep:
    print(f"kept {work}")
print(f"models={a.models} series={total_series} seconds={total_seconds:.2f} "
      f"ms_per_series={1000 * total_seconds / max(total_series, 1):.2f} "
      f"cpu_ms_per_series={1000 * total_cpu / max(total_series, 1):.2f} threads={a.threads} ranks={a.ranks or 1}")
if a.score:
    cmd = [sys.executable, a.evaluate, a.data, a.out] + ([a.naive2] if a.naive2 else [])
    print(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip())
