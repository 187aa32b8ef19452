#!/usr/bin/env python3
"""Prediction intervals scored against a common long CSV's test split: the share of test points inside the 80%
and the 95% interval (coverage), and the mean scaled interval score of the 95% interval as the M4 competition
defined it (MSIS):

  MSIS = mean over the horizon of (U - L) + (2/a)(L - y)[y < L] + (2/a)(y - U)[y > U],  a = 0.05,
         divided by the in-sample mean absolute seasonal difference at lag m (MASE's scale),

averaged over the series. The scale, missing values and missing forecasts are handled as in
../shared/peers/evaluate.py: an empty test value is skipped, MASE's scale uses lag m when the history is longer
than m (else lag 1) and skips pairs with a missing value, a series with no finite scale or a non-finite bound is
left out (counted as missing). Coverage is pooled over all test points of the series scored.

  bench/intervals.py DATA.csv FORECASTS.csv [--by-horizon]   (forecasts: id,step,forecast,lo80,hi80,lo95,hi95)
prints: series=N missing=K cover80=0.812 cover95=0.951 MSIS=12.345
and with --by-horizon the same line for the series of each horizon h (tourism: its yearly, quarterly and
monthly series) after it."""
import collections
import csv
import gzip
import math
import sys

A = 0.05


def opened(path):
    return gzip.open(path, "rt") if path.endswith(".gz") else open(path)


def load_data(path, horizons=None):
    """(train, test, m) per series; fills `horizons` (a dict) with each series' h when given."""
    train, test, m = collections.defaultdict(list), collections.defaultdict(list), {}
    for r in csv.DictReader(opened(path)):
        v = float(r["value"]) if r["value"] not in ("", "NA", "NaN") else float("nan")
        (train if r["split"] == "train" else test)[r["id"]].append((int(r["t"]), v))
        m[r["id"]] = int(r["m"])
        if horizons is not None:
            horizons[r["id"]] = int(r["h"])
    return train, test, m


def load_bounds(path):
    f = collections.defaultdict(dict)
    for r in csv.DictReader(opened(path)):
        f[r["id"]][int(r["step"])] = tuple(float(r[c]) for c in ("lo80", "hi80", "lo95", "hi95"))
    return f


def score(data, forecasts):
    train, test, m = data
    inside80 = inside95 = points = 0
    msis, missing = [], 0
    for i in test:
        y = [v for _, v in sorted(train[i])]
        a = [v for _, v in sorted(test[i])]
        b = [forecasts.get(i, {}).get(k + 1) for k in range(len(a))]
        if any(x is None or not all(math.isfinite(z) for z in x) for x in b):
            missing += 1
            continue
        s = m[i] if len(y) > m[i] else 1
        d = [abs(y[k] - y[k - s]) for k in range(s, len(y)) if math.isfinite(y[k]) and math.isfinite(y[k - s])]
        scale = sum(d) / len(d) if d else 0
        if not scale > 0:
            missing += 1
            continue
        total, n = 0.0, 0
        for x, (lo80, hi80, lo95, hi95) in zip(a, b):
            if not math.isfinite(x):
                continue
            inside80 += lo80 <= x <= hi80
            inside95 += lo95 <= x <= hi95
            total += (hi95 - lo95) + 2 / A * max(lo95 - x, 0) + 2 / A * max(x - hi95, 0)
            n += 1
        points += n
        if n:
            msis.append(total / n / scale)
    return {"series": len(msis), "missing": missing, "cover80": inside80 / max(points, 1),
            "cover95": inside95 / max(points, 1), "MSIS": sum(msis) / max(len(msis), 1)}


def line(s):
    return (f"series={s['series']} missing={s['missing']} cover80={s['cover80']:.3f} cover95={s['cover95']:.3f} "
            f"MSIS={s['MSIS']:.3f}")


if __name__ == "__main__":
    horizons = {}
    train, test, m = load_data(sys.argv[1], horizons)
    bounds = load_bounds(sys.argv[2])
    print(line(score((train, test, m), bounds)))
    if "--by-horizon" in sys.argv[3:]:
        for h in sorted(set(horizons.values())):
            part = {i: v for i, v in test.items() if horizons[i] == h}
            print(f"h={h} " + line(score((train, part, m), bounds)))
