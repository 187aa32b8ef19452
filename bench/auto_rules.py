#!/usr/bin/env python3
"""How `auto` should combine its pool, measured: rules that decide per series from K validation windows, each
scored by OWA on the test split of the shared sets (../shared/data), as bench/ACCURACY.md reports them.

  bench/auto_rules.py [--data tourism,m4_weekly,m4_hourly,nn5_daily,cheese_weekly] [--windows 3]
                      [--binary build/manymodels] [--work /tmp/mm-auto-rules]
                      [--stride h|half] [--back K] [--pool SET=m1,m2,...]

--stride half puts the windows h/2 apart (origins n-h, n-1.5h, n-2h, ...: more windows over the same span);
--back K scores on each set moved K horizons back (sets.py); --pool replaces a set's pool (the default is
auto's pool as it was at b80dbda; since then cheese_weekly's, with covariates, also holds fourier-notrend).

Each member of auto's pool (ets, dotm or fourier, snaive) runs alone through bench/competition.py on the data
as given (its test forecast) and on the data with its last k*h train periods made the test split, k = 1..K (its
forecast of validation window k; fitted on the periods before it, as FitSeries' validation does). A rule turns
a series' members' mean validation errors (MAE over the windows, as auto ranks them) into members and weights;
its forecast is the members' test forecasts so combined, scored by ../shared/peers/evaluate.py's formulas
against R's Naive2 (needs Rscript with the forecast package, once per set). Rules:
  median          the median of the pool (auto until this change)
  best            the member with the least validation error
  drop R inv P    members above R x the best error dropped, the rest weighted by (best / own)^P
                  (R = inf: none dropped; P = 0: equal weights)
  nested          per series, `median` or `best` by which did better on the latest window when `best` was
                  chosen on the windows before it (the policy judged on a window it did not select on)
Prints OWA per set and rule for 1..K windows, and each rule's worst ratio to the set's best single member."""
import argparse
import collections
import csv
import math
import os
import subprocess
import sys

import sets

here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.normpath(os.path.join(here, "..", "..", "shared"))
ap = argparse.ArgumentParser()
ap.add_argument("--data", default="tourism,m4_weekly,m4_hourly,nn5_daily,cheese_weekly")
ap.add_argument("--windows", type=int, default=3)
ap.add_argument("--binary", default=os.path.join(here, "..", "build", "manymodels"))
ap.add_argument("--work", default="/tmp/mm-auto-rules")
ap.add_argument("--shared", default=shared)
ap.add_argument("--stride", choices=("h", "half"), default="h")
ap.add_argument("--back", type=int, default=0)
ap.add_argument("--pool", action="append", default=[], help="SET=m1,m2,...")
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
K = a.windows
cycles = {"m4_weekly": "52.18", "m4_hourly": "24,168", "nn5_daily": "7,365.25"}
covariates = {"cheese_weekly": "price,disp"}
# auto's pool on these sets (AutoPool): two cycles or covariates -> fourier, else dotm; naive = snaive at m = 1
pools = {"tourism": "ets,dotm,snaive", "m4_weekly": "ets,dotm,snaive", "m4_hourly": "ets,fourier,snaive",
         "nn5_daily": "ets,fourier,snaive", "cheese_weekly": "ets,fourier,snaive"}
pools.update(p.split("=", 1) for p in a.pool)


def offset(k, h):  # periods between window k's origin (k = 1 the latest) and the end of the history
    return k * h if a.stride == "h" else ((k + 1) * h) // 2


def number(v):
    return float(v) if v not in ("", "NA", "NaN") else math.nan


def load(path):
    f = collections.defaultdict(dict)
    for r in csv.DictReader(open(path)):
        f[r["id"]][int(r["step"])] = float(r["forecast"])
    return {i: [d[k] for k in sorted(d)] for i, d in f.items()}


def scale(y, m):  # evaluate.py's MASE scale
    d = [abs(y[t] - y[t - m]) for t in range(m, len(y)) if math.isfinite(y[t]) and math.isfinite(y[t - m])]
    return sum(d) / len(d) if d else 0.0


def combine(fs, w=None):
    if w is None:  # median per step
        out = []
        for c in zip(*fs):
            c = sorted(c)
            out.append(c[len(c) // 2] if len(c) % 2 else (c[len(c) // 2 - 1] + c[len(c) // 2]) / 2)
        return out
    t = sum(w)
    return [sum(wi * x for wi, x in zip(w, c)) / t for c in zip(*fs)]


def mae(actual, f):
    pairs = [(x, z) for x, z in zip(actual, f) if math.isfinite(x)]
    return sum(abs(x - z) for x, z in pairs) / len(pairs) if pairs else math.nan


def rule_drop(r, p):
    def decide(fs, errors):
        s = [sum(e) / len(e) for e in errors]
        best = min(s)
        keep = [j for j in range(len(fs)) if (s[j] <= r * best if best > 0 else s[j] == 0)]
        return combine([fs[j] for j in keep], [(best / s[j]) ** p if best > 0 else 1.0 for j in keep])
    return decide


def rule_best(fs, errors):
    s = [sum(e) / len(e) for e in errors]
    return fs[s.index(min(s))]


def rule_median(fs, errors):
    return combine(fs)


def rule_nested(fs, errors, windows):
    # windows: [(actual, member forecasts)] latest first; choose best on windows 2.., judge on window 1
    if len(windows) < 2:
        return combine(fs)
    older = [sum(e[1:]) / len(e[1:]) for e in errors]
    pick = older.index(min(older))
    actual, wf = windows[0]
    return fs[pick] if mae(actual, wf[pick]) < mae(actual, combine(wf)) else combine(fs)


results, singles = {}, {}
for name in a.data.split(","):
    pool = pools[name].split(",")
    source, naive2 = sets.prepare(name, a.work, a.shared, a.back)
    rows = list(csv.DictReader(open(source)))
    tag = f"{name}.back{a.back}.{a.stride}"
    fields = list(rows[0].keys())
    by = collections.defaultdict(list)
    for r in rows:
        by[r["id"]].append(r)
    train = {i: [number(r["value"]) for r in sorted(rs, key=lambda r: int(r["t"])) if r["split"] == "train"]
             for i, rs in by.items()}
    test = {i: [number(r["value"]) for r in sorted(rs, key=lambda r: int(r["t"])) if r["split"] == "test"]
            for i, rs in by.items()}
    m = {i: int(rs[0]["m"]) for i, rs in by.items()}
    forecasts = {}
    for k in range(K + 1):
        path = os.path.join(a.work, f"{tag}.k{k}.csv")
        def window(tmp, k=k):  # the set with window k as its test split (k = 0: the set as given)
            with open(tmp, "w") as f:
                w = csv.DictWriter(f, fields)
                w.writeheader()
                for i, rs in by.items():
                    tr = sorted([r for r in rs if r["split"] == "train"], key=lambda r: int(r["t"]))
                    te = sorted([r for r in rs if r["split"] == "test"], key=lambda r: int(r["t"]))
                    h, n = int(tr[0]["h"]), len(tr)
                    if k == 0:
                        out = tr + te
                    elif n - offset(k, h) >= 3:
                        o = offset(k, h)
                        out = [dict(r, split="train") for r in tr[:n - o]] + \
                              [dict(r, split="test") for r in tr[n - o:n - o + h]]
                    else:
                        continue
                    w.writerows(out)
        if not os.path.exists(path):  # whole or absent (sets.produced): a later run trusts what it finds
            sets.produced(path, window)
        for method in pool:
            fc = os.path.join(a.work, f"{tag}.k{k}.{method}.csv")
            if not os.path.exists(fc):
                cmd = [sys.executable, os.path.join(here, "competition.py"), path, fc, "--models", method,
                       "--binary", a.binary]
                cmd += ["--season-length", cycles[name]] if name in cycles else []
                cmd += ["--covariates", covariates[name]] if name in covariates else []
                subprocess.run(cmd, check=True, capture_output=True)
            forecasts[(k, method)] = load(fc)
    n2 = load(naive2)

    def score(fc):  # evaluate.py's sMAPE and MASE means
        sm, ms = [], []
        for i in test:
            p = fc.get(i)
            if p is None or not all(map(math.isfinite, p)):
                continue
            pairs = [(x, z) for x, z in zip(test[i], p) if math.isfinite(x)]
            sm.append(sum(200 * abs(x - z) / (abs(x) + abs(z)) if abs(x) + abs(z) > 0 else 0 for x, z in pairs)
                      / len(pairs))
            s = scale(train[i], m[i] if len(train[i]) > m[i] else 1)
            if s > 0:
                ms.append(sum(abs(x - z) for x, z in pairs) / len(pairs) / s)
        return sum(sm) / len(sm), sum(ms) / len(ms)
    s2, m2 = score(n2)

    def owa(fc):
        s, ms = score(fc)
        return round((s / s2 + ms / m2) / 2, 3)
    # validation windows per series, latest first: (actual, member forecasts)
    windows = {}
    for i in test:
        y, h, ws = train[i], len(test[i]), []
        for k in range(1, K + 1):
            fs = [forecasts[(k, method)].get(i) for method in pool]
            o = offset(k, h)
            if len(y) - o < 3 or any(f is None for f in fs):
                break
            ws.append((y[len(y) - o:len(y) - o + h], fs))
        windows[i] = ws
    rules = [("median", rule_median), ("best", rule_best)]
    rules += [(f"drop {r} inv {p}", rule_drop(float(r), p)) for r in ("1.2", "1.5", "2", "inf") for p in (0, 2, 4, 6)]
    singles[name] = {method: owa(forecasts[(0, method)]) for method in pool}
    for kmax in range(1, K + 1):
        for label, decide in rules + [("nested", None)]:
            out = {}
            for i in test:
                fs = [forecasts[(0, method)].get(i) for method in pool]
                if any(f is None for f in fs):
                    continue
                ws = windows[i][:kmax]
                errors = [[mae(actual, wf[j]) for actual, wf in ws] for j in range(len(pool))]
                if not ws:
                    out[i] = combine(fs)
                elif decide is None:
                    out[i] = rule_nested(fs, errors, ws)
                else:
                    out[i] = decide(fs, errors)
            results[(name, label, kmax)] = owa(out)
    print(name, "members alone:", singles[name], file=sys.stderr)

names = a.data.split(",")
print("| rule | windows | " + " | ".join(names) + " | worst ratio to the best member |")
print("|---|---|" + "---|" * len(names) + "---|")
labels = list(dict.fromkeys(k[1] for k in results))
for kmax in range(1, K + 1):
    for label in labels:
        v = [results[(n, label, kmax)] for n in names]
        worst = max(x / min(singles[n].values()) for x, n in zip(v, names))
        print(f"| {label} | {kmax} | " + " | ".join(f"{x:.3f}" for x in v) + f" | {worst:.3f} |")
print("| best member alone | | " + " | ".join(f"{min(singles[n].values()):.3f}" for n in names) + " | 1 |")
