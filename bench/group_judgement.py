#!/usr/bin/env python3
"""How much of a series' judgement of auto's members should come from its group's, measured on the shared
retail sets (bench/ACCURACY.md, "Judging with the group's evidence").

  bench/group_judgement.py [--data nn5_daily,cheese_weekly] [--binary build/manymodels] [--work /tmp/mm-judgement]

Runs `auto` with each set one group (competition.py --pool-all: train --pool-by, the joint fit a member of the
pool) and keeps its registry, whose notes give every member's mean validation MAE per series; runs each member
alone (ets, fourier, the seasonal or plain naive, pooled) for its test forecasts. Then, per rule, combines the
members' test forecasts with the weights the rule gives and scores them as ../shared/peers/evaluate.py does
(OWA against R's Naive2 from r_peer.R; needs Rscript with the forecast package, once per set). A rule scores
each member by own^a x group^(1 - a): `own` its error relative to the series' best, `group` the geometric
mean of that ratio over the group's series (another average where named); then drops members above R x the
best score and weights the rest by (best / score)^P, as auto does. a = 1 is the series' own evidence alone;
the members as fitted alone differ a little from auto's (its pooled member serves the windows and the model),
so the a = 1 row differs from the pipeline's figure by about 0.002."""
import argparse
import collections
import csv
import math
import os
import re
import statistics
import subprocess
import sys

import sets

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.normpath(os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("--data", default="nn5_daily,cheese_weekly")
ap.add_argument("--binary", default=os.path.join(here, "..", "build", "manymodels"))
ap.add_argument("--work", default="/tmp/mm-judgement")
ap.add_argument("--shared", default=shared)
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
options = {"nn5_daily": ["--season-length", "7,365.25"], "cheese_weekly": ["--covariates", "price,disp"]}


def load(path):
    f = collections.defaultdict(dict)
    for r in csv.DictReader(open(path)):
        f[r["id"]][int(r["step"])] = float(r["forecast"])
    return {i: [d[k] for k in sorted(d)] for i, d in f.items()}


def actuals(path):  # per series: test values and MASE's in-sample scale, as evaluate.py
    train, test, m = collections.defaultdict(list), collections.defaultdict(list), {}
    for r in csv.DictReader(open(path)):
        v = float(r["value"]) if r["value"] not in ("", "NA", "NaN") else math.nan
        (train if r["split"] == "train" else test)[r["id"]].append((int(r["t"]), v))
        m[r["id"]] = int(r["m"])
    out = {}
    for i in test:
        y = [v for _, v in sorted(train[i])]
        s = m[i] if len(y) > m[i] else 1
        d = [abs(y[k] - y[k - s]) for k in range(s, len(y)) if math.isfinite(y[k]) and math.isfinite(y[k - s])]
        out[i] = ([v for _, v in sorted(test[i])], sum(d) / len(d))
    return out


def score(truth, f):
    sm, ms = [], []
    for i, (x, scale) in truth.items():
        pairs = [(u, z) for u, z in zip(x, f[i]) if math.isfinite(u)]
        sm.append(sum(200 * abs(u - z) / (abs(u) + abs(z)) if abs(u) + abs(z) > 0 else 0 for u, z in pairs) /
                  len(pairs))
        ms.append(sum(abs(u - z) for u, z in pairs) / len(pairs) / scale)
    return sum(sm) / len(sm), sum(ms) / len(ms)


def competition(data, out, models, *extra):
    subprocess.run([py, os.path.join(here, "competition.py"), data, out, "--models", models, "--binary", a.binary,
                    *extra], check=True, capture_output=True, text=True)


results = {}
for name in a.data.split(","):
    data, naive2 = sets.prepare(name, a.work, a.shared)
    truth = actuals(data)
    # auto's validation errors per series and member, from its registry's notes.
    auto = os.path.join(a.work, f"{name}.auto.csv")
    p = subprocess.run([py, os.path.join(here, "competition.py"), data, auto, "--models", "auto", "--binary",
                        a.binary, "--pool-all", "--keep", *options.get(name, [])], check=True, capture_output=True,
                       text=True)
    kept = re.search(r"kept (\S+)", p.stdout + p.stderr).group(1)
    errors = {}
    for reg in sorted(f for f in os.listdir(kept) if f.endswith(".reg.h5")):
        listing = subprocess.run([a.binary, "registry", "list", "--registry", os.path.join(kept, reg), "--format",
                                  "csv"], check=True, capture_output=True, text=True).stdout
        for r in csv.DictReader(listing.splitlines()):
            found = re.search(r"(?:from|alone:) (.*?) \(mean validation MAE", r["note"])
            errors[r["id"]] = {k: float(v) for k, v in (x.split(" ") for x in found.group(1).split(", "))}
    subprocess.run(["rm", "-rf", kept], check=True)
    members = sorted({m for e in errors.values() for m in e})
    forecasts = {}
    for m in members:
        out = os.path.join(a.work, f"{name}.{m}.csv")
        competition(data, out, m, *options.get(name, []), *(["--pool-all"] if m == "pooled" else []))
        forecasts[m] = load(out)
    results[name] = (truth, score(truth, load(naive2)), forecasts, errors)


def geometric(x):
    return math.exp(sum(map(math.log, x)) / len(x))


def owa(name, share, drop, power, average):
    truth, naive2, forecasts, errors = results[name]
    own = {i: {m: v / min(e.values()) for m, v in e.items()} for i, e in errors.items() if min(e.values()) > 0}
    group = {m: average([r[m] for r in own.values() if m in r]) for m in forecasts}
    combined = {}
    for i, e in errors.items():
        s = {m: own[i][m] ** share * group[m] ** (1 - share) for m in e} if i in own else dict(e)
        best = min(s.values())
        w = {m: (best / v) ** power if best > 0 else 1.0 for m, v in s.items() if v <= drop * best}
        t = sum(w.values())
        combined[i] = [sum(w[m] * forecasts[m][i][k] for m in w) / t for k in range(len(truth[i][0]))]
    s, m = score(truth, combined)
    return (s / naive2[0] + m / naive2[1]) / 2


averages = {"geometric mean": geometric, "median": statistics.median, "mean": lambda x: sum(x) / len(x)}
print("| own share a | group's average | drop R | power P | " + " | ".join(results) + " |")
print("|---|---|---|---|" + "---|" * len(results))
for share in (1, 0.8, 0.6, 0.5, 0.4, 0.2, 0):
    for drop, power in ((1.5, 6), (2, 4), (1.2, 6)):
        cells = " | ".join(f"{owa(n, share, drop, power, geometric):.4f}" for n in results)
        print(f"| {share} | geometric mean | {drop} | {power} | {cells} |")
for label, average in averages.items():
    if label != "geometric mean":
        for share in (0.6, 0.5, 0.4):
            cells = " | ".join(f"{owa(n, share, 1.5, 6, average):.4f}" for n in results)
            print(f"| {share} | {label} | 1.5 | 6 | {cells} |")
