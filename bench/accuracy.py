#!/usr/bin/env python3
"""Accuracy and speed against R's forecast package, in one run, on the competition data sets of
../shared/data (long CSV id,m,h,split,t,value): R's methods through ../shared/peers/r_peer.R, ours through
bench/competition.py (the real ingest -> train -> export pipeline, one process, one thread), every forecast
scored by ../shared/peers/evaluate.py (sMAPE, MASE, OWA against R's Naive2). Prints a Markdown table.

  bench/accuracy.py [--data tourism,m4_weekly,m4_hourly] [--r ets,theta,arima,snaive] [--ours ets,theta,arima,auto]
                    [--single-fit ets] [--work /tmp/mm-accuracy]

Model cycles for our side: the data's m, except M4 weekly 52.18 and M4 hourly 24,168 (R's peer uses m as
given: 1 for weekly, 24 for hourly). Timings are whole-run fit+forecast seconds per series (R: r_peer.R's own
figure; ours: train's own figure, which includes reading the lake and the validation fits)."""
import argparse
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.normpath(os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("--data", default="tourism,m4_weekly,m4_hourly")
ap.add_argument("--r", default="snaive,theta,ets,arima")
ap.add_argument("--ours", default="theta,ets,arima,auto")
ap.add_argument("--ours-args", default="", help="extra train options for our 'auto' runs")
ap.add_argument("--single-fit", default="", help="methods also timed one fit per series, as R is (forecast_bench)")
ap.add_argument("--forecast-bench", default=os.path.join(here, "..", "build", "forecast_bench"))
ap.add_argument("--work", default="/tmp/mm-accuracy")
ap.add_argument("--shared", default=shared)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
cycles = {"m4_weekly": "52.18", "m4_hourly": "24,168"}


def evaluate(data, fc, naive2):
    out = subprocess.run([py, os.path.join(a.shared, "peers", "evaluate.py"), data, fc, naive2], check=True,
                         capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w+)=([0-9.]+)", out))


rows = []
for name in a.data.split(","):
    data = os.path.join(a.work, name + ".csv")
    if not os.path.exists(data):
        subprocess.run(f"zcat {os.path.join(a.shared, 'data', name + '.csv.gz')} > {data}", shell=True, check=True)
    naive2 = os.path.join(a.work, f"{name}.R.naive2.csv")
    if not os.path.exists(naive2):
        subprocess.run(["Rscript", os.path.join(a.shared, "peers", "r_peer.R"), data, "naive2", naive2], check=True,
                       capture_output=True)
    for method in [m for m in a.r.split(",") if m]:
        fc = os.path.join(a.work, f"{name}.R.{method}.csv")
        p = subprocess.run(["Rscript", os.path.join(a.shared, "peers", "r_peer.R"), data, method, fc], check=True,
                           capture_output=True, text=True)
        ms = float(re.search(r"ms_per_series=([0-9.]+)", p.stdout).group(1))
        version = re.search(r"peer=(\S+)", p.stdout).group(1)
        rows.append((name, f"R {method} ({version})", evaluate(data, fc, naive2), ms))
        print(rows[-1], file=sys.stderr)
    for method in [m for m in a.ours.split(",") if m]:
        fc = os.path.join(a.work, f"{name}.mm.{method}.csv")
        cmd = [py, os.path.join(here, "competition.py"), data, fc, "--models", method]
        if name in cycles:
            cmd += ["--season-length", cycles[name]]
        if method == "auto" and a.ours_args:
            cmd += ["--train-args", a.ours_args]
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        ms = float(re.search(r"ms_per_series=([0-9.]+)", p.stdout).group(1))
        label = f"manymodels {method}" + (f" ({a.ours_args})" if method == "auto" and a.ours_args else "")
        rows.append((name, label, evaluate(data, fc, naive2), ms))
        print(rows[-1], file=sys.stderr)

    for method in [m for m in a.single_fit.split(",") if m]:
        fc = os.path.join(a.work, f"{name}.fb.{method}.csv")
        cmd = [a.forecast_bench, data, method, fc]
        if name in cycles:
            cmd += ["--m", cycles[name].split(",")[0].split(".")[0]]
        p = subprocess.run(cmd, check=True, capture_output=True, text=True)
        ms = float(re.search(r" ms_per_series=([0-9.]+)", p.stdout).group(1))
        rows.append((name, f"manymodels {method}, one fit per series (forecast_bench)", evaluate(data, fc, naive2), ms))
        print(rows[-1], file=sys.stderr)

print("| data | method | sMAPE | MASE | OWA | ms/series |")
print("|---|---|---|---|---|---|")
for name, label, s, ms in rows:
    print(f"| {name} | {label} | {s['sMAPE']} | {s['MASE']} | {s.get('OWA', '')} | {ms:.2f} |")
