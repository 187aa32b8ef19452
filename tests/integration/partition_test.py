"""--partition-by store: each store's series is the sum of its items' series (a period missing for every item
stays missing). Checked through models whose forecasts expose the series: naive (last value) and mean."""
import collections
import csv
import os

from common import Checks, read_csv, run, workdir

c = Checks("partition")
d = workdir()
panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
run(["generate", "--out", panel, "--stores", "3", "--items", "4", "--length", "120", "--seed", "11",
     "--missing-share", "0.05"])
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales", "--out", lake])

daily = collections.defaultdict(float)
days = collections.defaultdict(set)
with open(panel) as f:
    for r in csv.DictReader(f):
        daily[(r["store"], r["date"])] += float(r["sales"])
        days[r["store"]].add(r["date"])

for model in ("naive", "mean"):
    reg, pred = os.path.join(d, f"reg_{model}.h5"), os.path.join(d, f"pred_{model}.h5")
    run(["train", "--lake", lake, "--horizon", "5", "--registry", reg, "--predictions", pred, "--models", model,
         "--partition-by", "store", "--quiet"], mpi=2)
    rows = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
    c.ok([r["store"] for r in rows] == ["1", "2", "3"], "one model per store, keyed by store only")
    c.ok("item" not in rows[0], "no item column")
    preds = read_csv(run(["predictions", "export", "--predictions", pred]).stdout)
    for r in rows:
        s = r["store"]
        c.ok(int(r["n_obs"]) == len(days[s]), f"store {s}: n_obs {r['n_obs']} == days with any sale {len(days[s])}")
        f1 = float(next(p["forecast"] for p in preds if p["store"] == s and p["step"] == "1"))
        sums = [daily[(s, day)] for day in sorted(days[s])]
        want = sums[-1] if model == "naive" else sum(sums) / len(sums)
        c.ok(abs(f1 - want) < 1e-9 * max(1, abs(want)), f"{model} store {s}: {f1} vs sum of items {want}")
c.done()
