#!/usr/bin/env python3
"""Pooled models (train --models pooled --pool-by) against per-series models, in one run.

  bench/pooled.py cheese [--work /tmp/mm-pooled]
      ../shared/data/cheese_weekly.csv.gz (88 retailer series, price and display known for the test weeks):
      ingested with the test weeks' covariates as future rows, one group (every series is another retailer, so
      the pool is the whole set: a constant key column `pool`), each method trained by one process, one thread;
      forecasts scored by ../shared/peers/evaluate.py (OWA against R's Naive2), and the test points inside the
      80% / 95% intervals counted.
  bench/pooled.py panel [--stores 20 --items 100 --length 4000 --horizon 28 --repeat 3]
      a generated panel (manymodels generate, seed 1: the reference panel's first stores), its last `horizon`
      days held out (their prices and promotions kept as future rows), pooled by store against per-series
      fourier and auto: train's CPU seconds (median of --repeat runs, one process, one thread, methods
      alternating) and the held-out MASE (mean over series, scaled by the in-sample mean absolute difference at
      lag 7), and coverage.

Methods: --methods pooled,pooled-alone,fourier,auto,auto-pooled,auto-judged (pooled-alone: --models pooled without
--pool-by, each series a group of one; auto-judged: --models auto --judge-by, the group's judgement without a joint
fit; auto-pooled: --models auto with --pool-by, the group's joint fit a member of auto's
pool)."""
import argparse
import collections
import csv
import json
import os
import re
import resource
import statistics
import subprocess
import sys

import sets

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.normpath(os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("what", choices=["cheese", "panel"])
ap.add_argument("--methods", default="pooled,pooled-alone,fourier,auto")
ap.add_argument("--work", default="/tmp/mm-pooled")
ap.add_argument("--binary", default=os.environ.get("MANYMODELS", os.path.join(here, "..", "build", "manymodels")))
ap.add_argument("--stores", type=int, default=20)
ap.add_argument("--items", type=int, default=100)
ap.add_argument("--length", type=int, default=4000)
ap.add_argument("--horizon", type=int, default=28)
ap.add_argument("--repeat", type=int, default=1)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def mm(*args):
    return subprocess.run([a.binary, *args], check=True, env=env, capture_output=True, text=True).stdout


def train(lake, horizon, method, tag):
    """Trains one method (one process, one thread); returns (CPU seconds of the child, the predictions rows, the
    models' labels, train's peak resident memory in MiB from its summary)."""
    reg, pred = (os.path.join(a.work, f"{tag}.{method}.{x}.h5") for x in ("reg", "pred"))
    summary = os.path.join(a.work, f"{tag}.{method}.summary.json")
    by = ["--pool-by", "pool" if a.what == "cheese" else "store"]
    models = {"pooled": ["--models", "pooled", *by], "pooled-alone": ["--models", "pooled"],
              "auto-pooled": ["--models", "auto", *by],
              "auto-judged": ["--models", "auto", "--judge-by", by[1]]}.get(method, ["--models", method])
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    mm("train", "--lake", lake, "--horizon", str(horizon), "--registry", reg, "--predictions", pred, "--threads",
       "1", "--quiet", "--summary-json", summary, *models)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    labels = collections.Counter(r["model"].split(";")[0] for r in csv.DictReader(
        mm("registry", "list", "--registry", reg, "--format", "csv").splitlines()))
    with open(summary) as f:
        peak = json.load(f)["ranks"][0]["peak_rss_mib"]
    return cpu, list(csv.DictReader(mm("predictions", "export", "--predictions", pred).splitlines())), labels, peak


def coverage(preds, actual):
    inside80 = inside95 = n = 0
    for p in preds:
        y = actual.get(p["key"])
        if y is None:
            continue
        n += 1
        inside80 += float(p["lo80"]) <= y <= float(p["hi80"])
        inside95 += float(p["lo95"]) <= y <= float(p["hi95"])
    return 100 * inside80 / max(n, 1), 100 * inside95 / max(n, 1)


if a.what == "cheese":
    data, naive2 = sets.prepare("cheese_weekly", a.work, shared)
    src, lake = os.path.join(a.work, "cheese.csv"), os.path.join(a.work, "cheese.lake.h5")
    actual, horizon = {}, 0
    with open(data) as f, open(src, "w") as out:
        out.write("pool,id,t,value,price,disp\n")
        for r in csv.DictReader(f):
            test = r["split"] == "test"
            horizon = int(r["h"])
            if test:
                actual[(r["id"], r["t"])] = float(r["value"])
            out.write(f"all,{r['id']},{r['t']},{'' if test else r['value']},{r['price']},{r['disp']}\n")
    mm("ingest", "--input", src, "--keys", "pool,id", "--time", "t", "--target", "value", "--covariates",
       "price,disp", "--freq", "N", "--season-length", "1", "--out", lake)
    print("| method | OWA | sMAPE | MASE | 80% covered | 95% covered | train CPU s |")
    print("|---|---|---|---|---|---|---|")
    for method in a.methods.split(","):
        cpu, preds, labels, _ = train(lake, horizon, method, "cheese")
        fc = os.path.join(a.work, f"cheese.{method}.csv")
        with open(fc, "w") as f:
            f.write("id,step,forecast\n")
            f.writelines(f"{p['id']},{p['step']},{p['forecast']}\n" for p in preds)
        for p in preds:
            p["key"] = (p["id"], p["time"])
        scores = dict(re.findall(r"(\w+)=([0-9.]+)", subprocess.run(
            [py, os.path.join(shared, "peers", "evaluate.py"), data, fc, naive2], check=True, capture_output=True,
            text=True).stdout))
        c80, c95 = coverage(preds, actual)
        print(f"| {method} | {scores.get('OWA', scores.get('owa', '?'))} | {scores.get('sMAPE', scores.get('smape', '?'))} "
              f"| {scores.get('MASE', scores.get('mase', '?'))} | {c80:.1f} | {c95:.1f} | {cpu:.2f} |", flush=True)
        print(f"  {method}: {dict(labels.most_common(3))}", file=sys.stderr)
else:
    tag = f"panel{a.stores}x{a.items}x{a.length}"
    full, src, lake = (os.path.join(a.work, f"{tag}.{x}") for x in ("full.csv", "csv", "lake.h5"))
    if not os.path.exists(full):
        mm("generate", "--out", full, "--stores", str(a.stores), "--items", str(a.items), "--length",
           str(a.length + a.horizon), "--seed", "1")
    # Every series' rows by date; the held-out days are the last `horizon` dates of the panel.
    series = collections.defaultdict(list)
    with open(full) as f:
        next(f)
        for line in f:
            r = line.split(",", 4)
            series[(r[1], r[2])].append((r[0], float(r[3])))
    cut = sorted({d for rows in series.values() for d, _ in rows})[-a.horizon]
    if not os.path.exists(lake):
        with open(full) as f, open(src, "w") as out:  # the held-out days' sales emptied, prices and promotions kept
            out.write(next(f))
            for line in f:
                r = line.split(",")
                if r[0] >= cut:
                    r[3] = ""
                out.write(",".join(r))
        mm("ingest", "--input", src, "--keys", "store,item", "--time", "date", "--target", "sales", "--covariates",
           "price,promo", "--out", lake)
    # Actuals of the held-out days, and each series' MASE scale (lag 7, in-sample).
    actual, scale = {}, {}
    for key, rows in series.items():
        rows.sort()
        hist = [v for d, v in rows if d < cut]
        scale[key] = statistics.fmean(abs(hist[i] - hist[i - 7]) for i in range(7, len(hist))) if len(hist) > 7 else 0
        for d, v in rows:
            if d >= cut:
                actual[(key[0], key[1], d)] = v
    cpu, peaks = collections.defaultdict(list), collections.defaultdict(list)
    results = {}
    for rep in range(a.repeat):
        for method in a.methods.split(","):
            seconds, preds, labels, peak = train(lake, a.horizon, method, tag)
            cpu[method].append(seconds)
            peaks[method].append(peak)
            results[method] = (preds, labels)
            print(f"  run {rep + 1} {method}: {seconds:.1f} s CPU", file=sys.stderr, flush=True)
    print(f"{a.stores} stores x {a.items} items x {a.length} days, horizon {a.horizon}, "
          f"median of {a.repeat} run(s), one process, one thread")
    print("| method | train CPU s | per series ms | held-out MASE (mean) | 80% covered | 95% covered | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for method, (preds, labels) in results.items():
        errs = collections.defaultdict(list)
        for p in preds:
            p["key"] = (p["store"], p["item"], p["time"])
            if p["key"] in actual:
                errs[(p["store"], p["item"])].append(abs(float(p["forecast"]) - actual[p["key"]]))
        mases = [statistics.fmean(e) / scale[k] for k, e in errs.items() if scale.get(k, 0) > 0]
        c80, c95 = coverage(preds, actual)
        med = statistics.median(cpu[method])
        print(f"| {method} | {med:.1f} | {1000 * med / len(series):.1f} | {statistics.fmean(mases):.3f} | {c80:.1f} | "
              f"{c95:.1f} | {max(peaks[method]):.0f} |")
        print(f"  {method}: {dict(labels.most_common(3))}", file=sys.stderr)
