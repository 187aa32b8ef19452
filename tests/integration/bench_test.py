"""bench end to end: `bench --generate` on a tiny panel with layouts 1x1, 2x1 and 1x2 (real mpirun children of the
binary); bench.csv has DESIGN's columns first, one sane row per layout, and its figures follow from the run
summaries as io/bench.h documents them (efficiency, imbalance, the per-rank maxima, cost); every layout's exports
are identical; bench.html has the three charts. A second bench from a job file with a SKU price list and
`--schedule dynamic`, then `bench compare` of both. Bad input: a bad layout (exit 2), a missing job file, a bad price list, a bench.csv
missing a column (exit 1), each with a clear message and nothing written."""
import csv
import json
import os
import socket

from common import Checks, run, workdir

c = Checks("bench")
d = workdir()
ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "PMIX_MCA_gds": "hash"}
DESIGN = ["ranks", "threads", "series", "seconds", "read_s", "fit_s", "gather_s", "write_s", "series_per_s",
          "peak_mib_max", "efficiency", "imbalance", "cost_per_1000"]
PRICE = 2.5


def bench(args, check=True):
    return run(["bench", *args], check=check, env_extra=ENV, cwd=d)


def read_rows(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, r)) for r in reader]


def close(a, b, rel=2e-3, abs_=2e-3):
    return abs(a - b) <= max(abs_, rel * abs(b))


# 1. Three layouts on a generated panel of 12 series.
b1 = os.path.join(d, "b1")
p = bench(["--generate", "3,4,150", "--horizon", "7", "--layouts", "1x1,2x1,1x2", "--price", str(PRICE),
           "--out", b1])
c.ok("1x2" in p.stdout and "bench.csv" in p.stdout, f"bench prints its table: {p.stdout!r}")
header, rows = read_rows(os.path.join(b1, "bench.csv"))
c.ok(header[:len(DESIGN)] == DESIGN, f"DESIGN's columns first, in order: {header}")
for col in ("host", "cpu_model", "cpus", "identical", "efficiency_vs", "nodes", "rows_per_s", "launch"):
    c.ok(col in header, f"column {col}")
c.ok([(r["ranks"], r["threads"]) for r in rows] == [("1", "1"), ("2", "1"), ("1", "2")], "one row per layout")
num = {r["ranks"] + "x" + r["threads"]: {k: v for k, v in r.items()} for r in rows}
ref = float(num["1x1"]["seconds"])
for name, r in num.items():
    f = {k: float(r[k]) for k in DESIGN if r[k] != ""}
    ranks, threads = int(r["ranks"]), int(r["threads"])
    c.ok(int(r["series"]) == 12 and int(r["rows"]) == 3 * 4 * 150, f"{name}: 12 series, 1800 rows: {r}")
    for k in ("seconds", "fit_s", "series_per_s", "peak_mib_max", "efficiency", "imbalance", "cost_per_1000"):
        c.ok(f[k] > 0, f"{name}: {k} positive: {r[k]}")
    for k in ("read_s", "gather_s", "write_s"):
        c.ok(f[k] >= 0, f"{name}: {k} not negative: {r[k]}")
    c.ok(r["identical"] == "true", f"{name}: exports identical")
    c.ok(r["host"] == socket.gethostname() and int(r["cpus"]) == os.cpu_count(), f"{name}: the machine: {r}")
    c.ok(r["efficiency_vs"] == "1x1" and int(r["cores"]) == ranks * threads, f"{name}: reference and cores")
    c.ok(close(f["series_per_s"], 12 / f["seconds"], rel=5e-3), f"{name}: series_per_s = series / seconds")
    c.ok(close(f["efficiency"], ref / (f["seconds"] * ranks * threads), rel=5e-3),
         f"{name}: efficiency = seconds(1x1) / (seconds x cores): {r}")
    nodes = int(r["nodes"])
    c.ok(nodes == 1, f"{name}: one node")
    c.ok(close(f["cost_per_1000"], PRICE * nodes * f["seconds"] / 3600 / 12 * 1000, rel=5e-3),
         f"{name}: cost = price x nodes x hours / series x 1000")
    # The per-rank figures of the run the row reports.
    ldir = os.path.join(b1, "layout-" + name)
    with open(os.path.join(ldir, f"run-{r['run']}.json")) as fh:
        summary = json.load(fh)
    ranks_json = summary["ranks"]
    c.ok(len(ranks_json) == ranks and all(k["threads_used"] == threads for k in ranks_json),
         f"{name}: the run had {ranks} rank(s) of {threads} thread(s)")
    busy = [k["fit_seconds"] for k in ranks_json]
    c.ok(close(f["imbalance"], max(busy) / (sum(busy) / len(busy))), f"{name}: imbalance = max/mean busy: {busy}")
    c.ok(close(f["read_s"], max(k["read_seconds"] for k in ranks_json)), f"{name}: read_s = max over ranks")
    c.ok(close(f["fit_s"], max(k["fit_seconds"] - k["read_seconds"] for k in ranks_json)),
         f"{name}: fit_s = max over ranks of busy less reading")
    c.ok(close(f["gather_s"], ranks_json[0]["gather_seconds"]), f"{name}: gather_s is rank 0's")
    c.ok(close(f["write_s"], ranks_json[0]["write_seconds"]), f"{name}: write_s is rank 0's")
    c.ok(close(f["peak_mib_max"], max(k["peak_rss_mib"] for k in ranks_json), abs_=0.06), f"{name}: peak max")
    c.ok(f["seconds"] >= float(r["run_s"]), f"{name}: the wall time includes train's own")
    if ranks == 1:
        c.ok(f["imbalance"] == 1.0, f"{name}: one rank is balanced")
c.ok(close(float(num["1x1"]["efficiency"]), 1.0, abs_=1e-9), "1x1's efficiency is 1")
# The exports bench compared are there, and the same.
exports = {}
for name in num:
    for f in ("predictions.csv", "registry.csv"):
        with open(os.path.join(b1, "layout-" + name, f)) as fh:
            exports.setdefault(f, set()).add(fh.read())
c.ok(all(len(v) == 1 for v in exports.values()), "the layouts' exports are the same bytes")
c.ok(next(iter(exports["predictions.csv"])).count("\n") == 12 * 7 + 1, "predictions export: 12 series x 7 steps")
with open(os.path.join(b1, "bench.html")) as fh:
    page = fh.read()
for id_ in ("time-chart", "efficiency-chart", "cost-chart"):
    c.ok(f'id="{id_}"><svg' in page, f"bench.html has the {id_} SVG")
c.ok(page.count('<circle class="point"') == 6, "three layouts on each of two charts")
c.ok("<script" not in page and "src=" not in page and "url(" not in page, "bench.html is self-contained")
c.ok('class="bad"' not in page, "no warning when the exports agree")

# 2. From a job file (the lake above, [train] models), with a SKU price list: one cost column per SKU.
job = os.path.join(d, "job.ini")
with open(job, "w") as fh:
    fh.write("lake = b1/lake.h5\nhorizon = 7\n[train]\nmodels = snaive\n[bench]\nlayouts = 1x1,2x1\n")
skus = os.path.join(d, "skus.csv")
with open(skus, "w") as fh:
    fh.write("sku,price_per_node_hour\nStandard_L16s_v2,1.248\nHB120rs_v3,3.6\n")
b2 = os.path.join(d, "b2")
bench(["--config", job, "--prices", skus, "--schedule", "dynamic", "--out", b2])
header2, rows2 = read_rows(os.path.join(b2, "bench.csv"))
c.ok(header2[-2:] == ["cost_per_1000_Standard_L16s_v2", "cost_per_1000_HB120rs_v3"], f"SKU columns: {header2}")
c.ok([r["ranks"] + "x" + r["threads"] for r in rows2] == ["1x1", "2x1"], "the job file's [bench] layouts")
for r in rows2:
    s = float(r["seconds"])
    c.ok(r["cost_per_1000"] == "", "no --price: cost_per_1000 empty")
    c.ok(close(float(r["cost_per_1000_HB120rs_v3"]), 3.6 * s / 3600 / 12 * 1000, rel=5e-3), "cost at a SKU's price")
    c.ok(r["identical"] == "true", "job-file run: exports identical")
with open(os.path.join(b2, "layout-1x1", "run-1.log")) as fh:
    c.ok("--config " + job in fh.read(), "the children read the job file")
with open(os.path.join(b2, "layout-2x1", "registry.csv")) as fh:
    models = [row["model"] for row in csv.DictReader(fh)]
c.ok(len(models) == 12 and all(m.startswith("SNaive") for m in models), f"[train] models = snaive: {models[:3]}")
with open(os.path.join(b2, "layout-2x1", "run-1.json")) as fh:
    c.ok(json.load(fh)["schedule"] == "dynamic", "--schedule dynamic reaches train")
with open(os.path.join(b1, "layout-2x1", "run-1.json")) as fh:
    c.ok(json.load(fh)["schedule"] == "static", "train's default schedule without --schedule")

# 3. bench compare: both files side by side.
cmp = os.path.join(d, "compare.html")
run(["bench", "compare", os.path.join(b1, "bench.csv"), os.path.join(b2, "bench.csv"), "--out", cmp])
with open(cmp) as fh:
    page = fh.read()
c.ok("b1/bench.csv" in page and "b2/bench.csv" in page, "compare names both files")
for id_ in ("time-chart", "efficiency-chart", "cost-chart"):
    c.ok(f'id="{id_}"><svg' in page, f"compare.html has the {id_} SVG")
c.ok(page.count('<path class="line"') == 4, "one line per file on the time and efficiency charts")
c.ok("@ HB120rs_v3" in page, "the SKU costs are drawn")

# 4. Bad input: a clear message, the exit code, and nothing written.
def fails(name, args, code, says):
    out = os.path.join(d, name)
    p = bench([*args, "--out", out], check=False)
    c.ok(p.returncode == code, f"{name}: exit {code}, got {p.returncode}: {p.stderr!r}")
    for s in says:
        c.ok(s in p.stderr, f"{name}: says {s!r}: {p.stderr!r}")
    c.ok(not os.path.exists(out), f"{name}: nothing written")


fails("bad_layout", ["--generate", "3,4,150", "--horizon", "7", "--layouts", "1x1,2y1"], 2,
      ["--layouts: '2y1' is not a layout RANKSxTHREADS"])
fails("no_job", ["--config", os.path.join(d, "missing.ini"), "--layouts", "1x1"], 1,
      [os.path.join(d, "missing.ini") + ": cannot open job file: No such file or directory"])
fails("bad_generate", ["--generate", "3,4", "--horizon", "7"], 2, ["--generate: '3,4' is not STORES,ITEMS,LENGTH"])
fails("no_horizon", ["--generate", "3,4,150"], 2, ["--horizon"])
fails("both_prices", ["--config", job, "--price", "1", "--prices", skus], 2, ["--price or --prices, not both"])
fails("no_lake", ["--lake", os.path.join(d, "none.h5"), "--horizon", "7"], 1, ["none.h5: No such file or directory"])
bad_skus = os.path.join(d, "bad_skus.csv")
with open(bad_skus, "w") as fh:
    fh.write("sku,price_per_node_hour\nA,1\nB,free\n")
fails("bad_prices", ["--config", job, "--prices", bad_skus], 1, [bad_skus + ":3:2: price_per_node_hour 'free'"])
broken = os.path.join(d, "broken.csv")
with open(broken, "w") as fh:
    fh.write("ranks,threads,seconds\n1,1,3\n")
p = run(["bench", "compare", os.path.join(b1, "bench.csv"), broken, "--out", os.path.join(d, "c2.html")], check=False)
c.ok(p.returncode == 1 and broken + ":1:1: no column 'series'" in p.stderr, f"compare: a broken CSV: {p.stderr!r}")
c.ok(not os.path.exists(os.path.join(d, "c2.html")), "compare: nothing written")
c.done()
