"""ingest --append: a panel split by date, the first part ingested with a week of known future prices and
promotions (empty sales), the rest appended (gzip), trains exactly as the panel ingested in one go; a
conflicting or mismatched append is refused and leaves the lake byte for byte."""
import csv
import glob
import gzip
import os
import re

import h5py

from common import digest, Checks, read_csv, run, workdir

c = Checks("append")
d = workdir()


def path(name):
    return os.path.join(d, name)


panel = path("panel.csv")
run(["generate", "--out", panel, "--stores", "3", "--items", "4", "--length", "150", "--seed", "5"])
with open(panel, newline="") as f:
    rows = list(csv.reader(f))
header, body = rows[0], rows[1:]
days = sorted({r[0] for r in body})
cut, future_end = days[-21], days[-14]  # the last 21 days are appended; the first 7 of them were known ahead
first, second = path("first.csv"), path("second.csv.gz")
with open(first, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    for r in body:
        if r[0] < cut:
            w.writerow(r)
        elif r[0] < future_end:
            w.writerow(r[:3] + [""] + r[4:])  # known future price and promotion, no sales yet
with gzip.open(second, "wt", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    w.writerows(r for r in body if r[0] >= cut)

cols = ["--keys", "store,item", "--time", "date", "--target", "sales", "--covariates", "price,promo"]
whole, lake = path("whole.h5"), path("lake.h5")
run(["ingest", "--input", panel, *cols, "--out", whole])
run(["ingest", "--input", first, *cols, "--out", lake])
p = run(["ingest", "--input", second, *cols, "--out", lake, "--append"])
m = re.search(r"(\d+) new series, (\d+) new periods, (\d+) empty values filled", p.stderr)
c.ok(m and m.group(1) == "0" and int(m.group(2)) >= 12 * 13 and int(m.group(3)) >= 12 * 6,
     f"the append's summary: 14 new days and 7 future days' sales for 12 series (a few rows are missing): {p.stderr}")
c.ok(not glob.glob(path("*.tmp-*")), "no temporaries left")

with h5py.File(lake, "r") as a, h5py.File(whole, "r") as b:
    for name in ("keys/store", "keys/item", "offsets", "start", "target", "covariates/price", "covariates/promo"):
        x, y = a[name][:], b[name][:]
        same = x.shape == y.shape and all(u == v or (u != u and v != v) for u, v in zip(x, y))
        c.ok(same, f"{name}: the appended lake equals the lake ingested in one go")
    for attr in ("frequency", "weekly_anchor", "season_lengths", "key_columns", "time_column", "target_column",
                 "covariate_columns"):
        c.ok(str(a.attrs[attr]) == str(b.attrs[attr]), f"attribute {attr}: {a.attrs[attr]} {b.attrs[attr]}")
    inputs = a.attrs["inputs"]
    c.ok(inputs == f"input={os.path.realpath(first)}\ninput={os.path.realpath(second)}\n",
         f"provenance lists both inputs: {inputs!r}")
    history = a.attrs["history"]
    c.ok(history.count("\n") == 1 and first in history and "--append" not in history,
         f"history holds the first ingest's command line: {history!r}")
    c.ok("--append" in a.attrs["command_line"], "the command line is the append's")

# Train on both: the same models, metrics and forecasts.
outputs = {}
for name, f in (("whole", whole), ("lake", lake)):
    reg, pred = path(f"reg_{name}.h5"), path(f"pred_{name}.h5")
    run(["train", "--lake", f, "--horizon", "14", "--registry", reg, "--predictions", pred, "--quiet"], mpi=2)
    listing = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
    for r in listing:
        del r["version"]
    outputs[name] = (listing, run(["predictions", "export", "--predictions", pred]).stdout)
c.ok(len(outputs["lake"][0]) == 12, "a model per series")
c.ok(outputs["lake"][0] == outputs["whole"][0], "the same registry listing apart from version")
c.ok(outputs["lake"][1] == outputs["whole"][1], "the same predictions export")

# Refused appends leave the lake byte for byte.
before = digest(lake)
conflict = path("conflict.csv")
with open(conflict, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(header)
    old = next(r for r in body if r[0] == days[-3])
    w.writerow(old[:3] + [str(float(old[3]) + 1)] + old[4:])
p = run(["ingest", "--input", conflict, *cols, "--out", lake, "--append"], check=False)
c.ok(p.returncode == 1, f"a changed value is an input error: {p.returncode} {p.stderr}")
c.ok(f"{conflict}:2:4: (store={old[1]}, item={old[2]}, {old[0]}): sales " in p.stderr and
     "differs from" in p.stderr, f"the message names the line, column, key and day: {p.stderr}")
c.ok(digest(lake) == before, "the lake is unchanged after a refused append")

for args, want in [
    (["--input", second, "--keys", "store,item", "--time", "date", "--target", "price", "--out", lake, "--append"],
     "--target 'price', but the lake"),
    (["--input", second, *cols, "--freq", "W", "--out", lake, "--append"], "--freq W, but the lake"),
    (["--input", second, *cols, "--out", path("none.h5"), "--append"], "does not exist"),
    (["--input", second, *cols, "--out", second, "--append"], "--out and --input name the same file"),
]:
    p = run(["ingest", *args], check=False)
    c.ok(p.returncode == 2 and want in p.stderr, f"usage error {want!r}: {p.returncode} {p.stderr}")
    c.ok(digest(lake) == before, f"the lake is unchanged: {args}")
c.ok(not os.path.exists(path("none.h5")), "no lake created by a refused append")
c.ok(not glob.glob(path("*.tmp-*")), "no temporaries left")
c.done()
