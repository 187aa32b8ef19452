"""generate -> ingest -> train under `mpirun -n 2` -> registry list / predictions export, checked row by row,
and the HDF5 outputs read with a standard tool (h5py)."""
import math
import os

import h5py

from common import Checks, read_csv, run, workdir

c = Checks("end_to_end")
d = workdir()
H = 14
panel, lake, reg, pred = (os.path.join(d, f) for f in ("panel.csv.gz", "lake.h5", "reg.h5", "pred.h5"))
run(["generate", "--out", panel, "--stores", "4", "--items", "6", "--length", "300", "--seed", "7"])
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales",
     "--covariates", "price,promo", "--out", lake])
p = run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg, "--predictions", pred], mpi=2)
c.ok("run " in p.stdout and reg in p.stdout and pred in p.stdout, "train prints the run and where outputs are")
c.ok("0 " in p.stdout and "1 " in p.stdout, "train reports both ranks")

rows = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
c.ok(len(rows) == 24, f"one registry row per series (got {len(rows)})")
c.ok(list(rows[0].keys()) == ["store", "item", "model", "version", "status", "mae", "rmse", "mape", "smape",
                              "mase", "n_obs", "note"], f"registry columns: {list(rows[0].keys())}")
keys = [(int(r["store"]), int(r["item"])) for r in rows]
c.ok(keys == sorted(keys) and len(set(keys)) == 24, "registry rows sorted by key, each once")
for r in rows:
    c.ok(r["status"] == "staged", f"status staged: {r}")
    for m in ("mae", "rmse", "smape"):
        c.ok(r[m] != "" and math.isfinite(float(r[m])), f"finite {m}: {r}")
    c.ok(r["mase"] == "" or math.isfinite(float(r["mase"])), f"mase finite or undefined: {r}")
    c.ok(int(r["n_obs"]) > 250, f"n_obs: {r}")
c.ok(len({r["version"] for r in rows}) == 1, "one version per run")

preds = read_csv(run(["predictions", "export", "--predictions", pred, "--format", "csv"]).stdout)
c.ok(len(preds) == 24 * H, f"H rows per series (got {len(preds)})")
c.ok(list(preds[0].keys()) == ["store", "item", "step", "time", "forecast", "lo80", "hi80", "lo95", "hi95",
                               "model"], "prediction columns")
for i, r in enumerate(preds):
    c.ok(int(r["step"]) == i % H + 1, "steps 1..H")
    v = [float(r[k]) for k in ("lo95", "lo80", "forecast", "hi80", "hi95")]
    c.ok(all(math.isfinite(x) for x in v), f"finite forecast {r}")
    c.ok(v[0] <= v[1] <= v[2] <= v[3] <= v[4], f"lo95 <= lo80 <= forecast <= hi80 <= hi95: {r}")
by_key = {(int(r["store"]), int(r["item"])): r["model"] for r in rows}
c.ok(all(by_key[(int(p["store"]), int(p["item"]))] == p["model"] for p in preds), "model matches registry")
# The first forecast date is the day after the last date in the data.



# A standard tool reads the HDF5 outputs.
with h5py.File(reg, "r") as f:
    c.ok(f.attrs["kind"] == "manymodels-registry" and f.attrs["schema_version"] == 3, "registry attributes")
    labels = [v.decode() for v in f["model/values"][:]]
    models = [labels[k] for k in f["model/codes"][:]]
    c.ok(models == [r["model"] for r in rows], "dictionary-coded model column decodes to the listing's models")
    c.ok(len(f["params/offset"]) == 24 and min(f["params/size"][:]) > 0, "registry datasets and model bytes")
    c.ok(len(f["version/values"]) == 1, "the run id is stored once, not per row")
    # Provenance: version with its commit, the command line, the absolute lake path, ranks and resolved options.
    for a in ("run_id", "program_version", "command_line", "inputs", "host", "resolved", "ranks", "predictions"):
        c.ok(a in f.attrs, f"provenance attribute {a}")
    c.ok("(" in f.attrs["program_version"], "program version names its commit")
    c.ok("train" in f.attrs["command_line"] and "--horizon" in f.attrs["command_line"], "command line recorded")
    c.ok(f"lake={os.path.realpath(lake)}" in f.attrs["inputs"], f"absolute lake path: {f.attrs['inputs']}")
    c.ok(f.attrs["ranks"] == 2 and "threads=" in f.attrs["resolved"] and "max_history=" in f.attrs["resolved"],
         f"ranks and resolved options: {f.attrs['resolved']}")
    c.ok(f["last_period"].attrs["units"] == "days since 1970-01-01", "period units")
    reg_run = f.attrs["run_id"]
with h5py.File(pred, "r") as f:
    c.ok(list(f["offsets"][:3]) == [0, H, 2 * H], "predictions offsets")
    c.ok(f.attrs["run_id"] == reg_run, "registry and predictions carry the same run id")
    c.ok(f["last_period"].attrs["units"] == "days since 1970-01-01", "period units")
with h5py.File(lake, "r") as f:
    c.ok(len(f["offsets"]) == 25 and f["keys/store"].dtype.kind == "i", "lake layout")

show = run(["registry", "show", "--registry", reg, "--key", "store=2,item=3"]).stdout
c.ok("store=2, item=3" in show and "parameters" in show, f"registry show: {show}")
c.ok(run(["registry", "show", "--registry", reg, "--key", "store=9,item=9"], check=False).returncode != 0,
     "registry show of an unknown key fails")
c.done()
