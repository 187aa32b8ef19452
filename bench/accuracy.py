#!/usr/bin/env python3
"""Accuracy and speed against R's forecast package, in one run, on the data sets of ../shared/data (long CSV
id,m,h,split,t,value[,covariates]): R's methods through bench/r_intervals.R (the fits of ../shared/peers/r_peer.R,
which writes point forecasts only, with their 80% and 95% intervals; r_xreg_peer.R, point forecasts only, with the
covariates of a set that has them), ours through bench/competition.py (the real ingest -> train -> export
pipeline, one process, one thread), every forecast scored by ../shared/peers/evaluate.py (sMAPE, MASE, OWA
against R's Naive2 from r_peer.R) and every interval by bench/intervals.py (coverage of the 80% and 95%
intervals, MSIS of the 95% interval as in M4). Prints a Markdown table.

  bench/accuracy.py [--data tourism,m4_weekly,m4_hourly,nn5_daily,cheese_weekly] [--r ets,theta,arima,snaive]
                    [--r-xreg arimax,loglm] [--ours ets,theta,arima,auto] [--baseline BINARY[:LABEL]]
                    [--baseline-models auto,auto+pooled]
                    [--single-fit ets] [--work /tmp/mm-accuracy] [--back K]

Model cycles for our side: the data's m, except M4 weekly 52.18, M4 hourly 24,168 and NN5 7,365.25 (R's peer
uses m as given: 1 for weekly, 24 for hourly, 7 for NN5). cheese_weekly's covariates price and disp (known for
the test weeks) reach our models and R's xreg peers. --baseline runs our `auto` (or
--baseline-models) with another build too (e.g. the commit before a change), in the same run. `auto+pooled` is
auto with each set's (m, h) group one pool (competition.py --pool-all: train --pool-by), `auto+judged` the same
groups judged together without the joint fit (--judge-all: train --judge-by). Timings are whole-run fit+forecast per series: R's r_peer.R's own wall
figure; ours train's own wall figure (reading the lake, the validation fits, writing) and the CPU seconds of the
train process. --back K scores every method K horizons back in time (bench/sets.py: the last K*h history rows
become the test, the real test rows are dropped): how the same methods and intervals do on periods the histories
cover, beside how they do on the real test."""
import argparse
import os
import re
import signal
import subprocess
import sys

import intervals
import sets

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.normpath(os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("--data", default="tourism,m4_weekly,m4_hourly,nn5_daily,cheese_weekly")
ap.add_argument("--r", default="snaive,theta,ets,arima")
ap.add_argument("--r-xreg", default="arimax,loglm", help="peers with the covariates, on sets that have them")
ap.add_argument("--ours", default="theta,ets,arima,auto")
ap.add_argument("--binary", default=os.path.join(here, "..", "build", "manymodels"))
ap.add_argument("--baseline", default="", help="BINARY[:LABEL]: our auto run with this build too")
ap.add_argument("--baseline-models", default="auto", help="what --baseline runs (auto, auto+pooled)")
ap.add_argument("--ours-args", default="", help="extra train options for our 'auto' runs")
ap.add_argument("--single-fit", default="", help="methods also timed one fit per series, as R is (forecast_bench)")
ap.add_argument("--forecast-bench", default=os.path.join(here, "..", "build", "forecast_bench"))
ap.add_argument("--work", default="/tmp/mm-accuracy")
ap.add_argument("--reuse-r", action="store_true",
                help="R's forecasts already in --work (with their .log timing line) are scored, not rerun")
ap.add_argument("--shared", default=shared)
ap.add_argument("--back", type=int, default=0, help="score K horizons back in time instead of on the test split")
a = ap.parse_args()
# SIGTERM ends the run as an error does, so that a half-made file (sets.produced) and a running R or train go with it.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
os.makedirs(a.work, exist_ok=True)
py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
cycles = {"m4_weekly": "52.18", "m4_hourly": "24,168", "nn5_daily": "7,365.25"}
covariates = {"cheese_weekly": "price,disp"}


def stdout_of(cmd):
    """cmd's standard output; if it fails, the run stops with its standard error."""
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr.strip()}")
    return p.stdout


def evaluate(data, fc, naive2):
    out = subprocess.run([py, os.path.join(a.shared, "peers", "evaluate.py"), data, fc, naive2], check=True,
                         capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w+)=([0-9.]+)", out))


def interval_scores(data, fc):
    """cover80, cover95, MSIS of a forecast file with bounds, as bench/intervals.py prints them."""
    s = intervals.score(intervals.load_data(data), intervals.load_bounds(fc))
    return {"cover80": f"{s['cover80']:.3f}", "cover95": f"{s['cover95']:.3f}", "MSIS": f"{s['MSIS']:.3f}"}


rows = []
for name in a.data.split(","):
    data, naive2 = sets.prepare(name, a.work, a.shared, a.back)
    files = f"{name}.back{a.back}" if a.back else name
    shown = f"{name} ({a.back} horizon{'s' if a.back > 1 else ''} back)" if a.back else name
    for method in [m for m in a.r.split(",") if m]:
        fc = os.path.join(a.work, f"{files}.R.{method}.csv")
        if not (a.reuse_r and os.path.exists(fc) and os.path.exists(fc + ".log")):
            # The forecasts, then their log: --reuse-r takes the pair only when both are whole.
            out = []
            sets.produced(fc, lambda tmp: out.append(
                stdout_of(["Rscript", os.path.join(here, "r_intervals.R"), data, method, tmp])))

            def write_log(tmp):
                with open(tmp, "w") as f:
                    f.write(out[0])
            sets.produced(fc + ".log", write_log)
        with open(fc + ".log") as f:
            log = f.read()
        ms = float(re.search(r"ms_per_series=([0-9.]+)", log).group(1))
        version = re.search(r"peer=(\S+)", log).group(1)
        rows.append((shown, f"R {method} ({version})", evaluate(data, fc, naive2) | interval_scores(data, fc), ms,
                     None))
        print(rows[-1], file=sys.stderr)
    for method in [m for m in a.r_xreg.split(",") if m and name in covariates]:
        fc = os.path.join(a.work, f"{files}.R.{method}.csv")
        out = []
        sets.produced(fc, lambda tmp: out.append(
            stdout_of(["Rscript", os.path.join(a.shared, "peers", "r_xreg_peer.R"), data, method, tmp,
                       covariates[name]])))
        ms = float(re.search(r"ms_per_series=([0-9.]+)", out[0]).group(1))
        version = re.search(r"peer=(\S+)", out[0]).group(1)
        rows.append((shown, f"R {method} with {covariates[name]} ({version})", evaluate(data, fc, naive2), ms, None))
        print(rows[-1], file=sys.stderr)
    runs = [(m, a.binary, f"manymodels {m}") for m in a.ours.split(",") if m]
    if a.baseline:
        binary, _, label = a.baseline.partition(":")
        runs += [(m, binary, f"manymodels {m} ({label or binary})") for m in a.baseline_models.split(",") if m]
    for method, binary, label in runs:
        fc = os.path.join(a.work, f"{files}.mm.{label.replace(' ', '_').replace('/', '_')}.csv")
        # auto+pooled: auto with the whole set (each (m, h) group) one pool, the joint fit a member of its pool;
        # auto+judged: the same groups' judgement without the joint fit.
        cmd = [py, os.path.join(here, "competition.py"), data, fc, "--models", method.split("+")[0], "--binary",
               binary, *(["--pool-all"] if method.endswith("+pooled") else []),
               *(["--judge-all"] if method.endswith("+judged") else [])]
        if name in cycles:
            cmd += ["--season-length", cycles[name]]
        if name in covariates:
            cmd += ["--covariates", covariates[name]]
        if method.startswith("auto") and a.ours_args:
            cmd += ["--train-args", a.ours_args]
            label += f" ({a.ours_args})"
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        ms = float(re.search(r" ms_per_series=([0-9.]+)", p.stdout).group(1))
        cpu = float(re.search(r"cpu_ms_per_series=([0-9.]+)", p.stdout).group(1))
        rows.append((shown, label, evaluate(data, fc, naive2) | interval_scores(data, fc), ms, cpu))
        print(rows[-1], file=sys.stderr)

    for method in [m for m in a.single_fit.split(",") if m]:
        fc = os.path.join(a.work, f"{files}.fb.{method}.csv")
        cmd = [a.forecast_bench, data, method, fc]
        if name in cycles:
            cmd += ["--m", cycles[name].split(",")[0].split(".")[0]]
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        ms = float(re.search(r" ms_per_series=([0-9.]+)", p.stdout).group(1))
        rows.append((shown, f"manymodels {method}, one fit per series (forecast_bench)", evaluate(data, fc, naive2), ms,
                     None))
        print(rows[-1], file=sys.stderr)

print("| data | method | sMAPE | MASE | OWA | cover 80% | cover 95% | MSIS | ms/series | CPU ms/series |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, label, s, ms, cpu in rows:
    print(f"| {name} | {label} | {s['sMAPE']} | {s['MASE']} | {s.get('OWA', '')} | {s.get('cover80', '')} | "
          f"{s.get('cover95', '')} | {s.get('MSIS', '')} | {ms:.2f} | {'' if cpu is None else f'{cpu:.2f}'} |")
