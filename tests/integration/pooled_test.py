"""train --models pooled --pool-by store: every item of a store shares the price elasticity, promotion lift and
cycles (one Ceres fit per store), each keeps its own level and trend. The exports are the same bytes for one
process and for 2 ranks x 2 threads under the dynamic schedule with small batches (stores split between ranks
and batches, each fitted whole wherever it is needed); the labels name the store and its effects; a store with
fewer than 5 items is fitted per item, with a note; forecasts and bounds are never negative; the saved models
stand alone: promoted and scored (loaded one by one, updated with nothing new) they forecast what train did. With
--models auto each store's joint fit is a member of its items' pools (none for the store of 3) and each item's
members are judged with its store's evidence (all its items', however the store is split), again the same bytes
for both layouts. --judge-by store: the same judgement without the joint fit (no pooled member), the same bytes
for both layouts. --pool-by is refused with another model, with auto not weighing its evidence (--ensemble
median), with --partition-by, or naming no key column; --judge-by with another model, --pool-by or
--partition-by."""
import csv
import io
import os

from common import Checks, read_csv, run, workdir

c = Checks("pooled")
d = workdir()
panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
run(["generate", "--out", panel, "--stores", "4", "--items", "6", "--length", "240", "--seed", "5"])
# Store 4 keeps 3 items only: too few to pool.
with open(panel) as f:
    rows = list(csv.reader(f))
with open(panel, "w", newline="") as f:
    csv.writer(f).writerows([rows[0]] + [r for r in rows[1:] if not (r[1] == "4" and int(r[2]) > 3)])
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales",
     "--covariates", "price,promo", "--out", lake])


def train(tag, mpi=0, extra=(), models="pooled", by="--pool-by"):
    reg, pred = os.path.join(d, f"reg-{tag}.h5"), os.path.join(d, f"pred-{tag}.h5")
    run(["train", "--lake", lake, "--horizon", "14", "--models", models, by, "store", "--registry", reg,
         "--predictions", pred, "--quiet", *extra], mpi=mpi)
    listing = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
    for r in listing:
        r["version"] = ""  # the run id
    out = io.StringIO()
    w = csv.DictWriter(out, listing[0].keys())
    w.writeheader()
    w.writerows(listing)
    return reg, out.getvalue(), run(["predictions", "export", "--predictions", pred]).stdout


reg1, listing1, preds1 = train("1x1", extra=("--threads", "1"))
_, listing2, preds2 = train("2x2", mpi=2, extra=("--threads", "2", "--schedule", "dynamic", "--batch", "4"))
c.ok(listing1 == listing2, "the registry listing is the same for 1 rank and 2 ranks x 2 threads")
c.ok(preds1 == preds2, "the predictions are the same for 1 rank and 2 ranks x 2 threads")
shown1 = run(["registry", "show", "--registry", reg1, "--key", "store=2,item=5"]).stdout
c.ok("group store=2" in shown1 and "price elasticity=" in shown1, f"registry show describes the pooled fit: {shown1}")

models = read_csv(listing1)
c.ok(len(models) == 21, f"21 models: {len(models)}")
for m in models:
    if m["store"] == "4":
        c.ok(m["model"].startswith("Pooled(alone") and "fewer than 5); fitted alone" in m["note"],
             f"a store of 3 items is fitted per item: {m}")
    else:
        c.ok(m["model"].startswith(f"Pooled(store={m['store']}; price elasticity -"), f"label: {m['model']}")
        c.ok(m["mase"] != "" and float(m["mase"]) < 2, f"validated: {m}")
labels = {m["store"]: m["model"] for m in models if m["store"] != "4"}
c.ok(len(set(labels.values())) == 3, f"each store its own shared effects: {labels}")
for p in read_csv(preds1):
    c.ok(min(float(p[k]) for k in ("forecast", "lo80", "hi80", "lo95", "hi95")) >= 0, f"never negative: {p}")

prod, scores = os.path.join(d, "prod.h5"), os.path.join(d, "scores.h5")
run(["promote", "--registry", reg1, "--production", prod, "--rule", "n_obs>0"])
run(["score", "--lake", lake, "--production", prod, "--horizon", "14", "--predictions", scores], mpi=2)
scored = {(p["store"], p["item"], p["step"]): p for p in read_csv(run(["predictions", "export", "--predictions", scores]).stdout)}
for p in read_csv(preds1):
    q = scored[(p["store"], p["item"], p["step"])]
    c.ok(all(abs(float(p[k]) - float(q[k])) <= 1e-9 * max(1, abs(float(p[k]))) for k in ("forecast", "lo95", "hi95")),
         f"score forecasts what train did: {p} {q}")

# auto with --pool-by: each store's joint fit is a member of its items' pools (validated on auto's windows, weighed
# by the same rule); a store of 3 items has none. The same bytes for any layout.
_, auto1, apreds1 = train("auto1x1", extra=("--threads", "1"), models="auto")
_, auto2, apreds2 = train("auto2x2", mpi=2, extra=("--threads", "2", "--schedule", "dynamic", "--batch", "4"),
                          models="auto")
c.ok(auto1 == auto2, "auto --pool-by: the registry listing is the same for 1 rank and 2 ranks x 2 threads")
c.ok(apreds1 == apreds2, "auto --pool-by: the predictions are the same for 1 rank and 2 ranks x 2 threads")
for m in read_csv(auto1):
    weighed = "pooled " in m["note"].split(" (mean validation MAE")[0]
    c.ok(weighed == (m["store"] != "4"), f"the pooled member weighed where the store pools: {m}")
    # Judged with the evidence of all its store's items, wherever they were validated.
    items = 3 if m["store"] == "4" else 6
    c.ok(f"judged with the group's errors relative to each series' best over {items} series" in m["note"],
         f"judged with its store's {items} items: {m['note']}")

# --judge-by store: the same judgement with no joint fit (no pooled member in any pool), again the same bytes for
# any layout; and not the --pool-by models.
_, judge1, jpreds1 = train("judge1x1", extra=("--threads", "1"), models="auto", by="--judge-by")
_, judge2, jpreds2 = train("judge2x2", mpi=2, extra=("--threads", "2", "--schedule", "dynamic", "--batch", "4"),
                           models="auto", by="--judge-by")
c.ok(judge1 == judge2 and jpreds1 == jpreds2, "--judge-by: the same registry and predictions for both layouts")
c.ok(judge1 != auto1, "--judge-by: not the models of --pool-by (no joint fit)")
for m in read_csv(judge1):
    items = 3 if m["store"] == "4" else 6
    c.ok("Pooled" not in m["model"] and "pooled " not in m["note"], f"--judge-by: no pooled member: {m}")
    c.ok(f"judged with the group's errors relative to each series' best over {items} series" in m["note"],
         f"--judge-by: judged with its store's {items} items: {m['note']}")

# Refused: another model, auto not weighing its evidence, --partition-by, a column that is not a key; --judge-by
# with another model, with --pool-by, with --partition-by.
bad = [["--models", "ets", "--pool-by", "store"], ["--models", "auto", "--ensemble", "median", "--pool-by", "store"],
       ["--models", "pooled", "--pool-by", "store", "--partition-by", "store"]]
bad += [["--models", "ets", "--judge-by", "store"], ["--judge-by", "store", "--pool-by", "store"],
        ["--judge-by", "store", "--partition-by", "store"]]
for args in bad:
    p = run(["train", "--lake", lake, "--horizon", "14", "--registry", os.path.join(d, "x.h5"), "--predictions",
             os.path.join(d, "y.h5"), *args], check=False)
    option = "--judge-by" if "--judge-by" in args else "--pool-by"
    c.ok(p.returncode == 2 and option in p.stderr, f"{args}: usage error: {p.returncode} {p.stderr}")
p = run(["train", "--lake", lake, "--horizon", "14", "--registry", os.path.join(d, "x.h5"), "--predictions",
         os.path.join(d, "y.h5"), "--models", "pooled", "--pool-by", "shop"], check=False)
c.ok(p.returncode != 0 and "'shop' is not a key column" in p.stderr, f"unknown column: {p.returncode} {p.stderr}")
c.ok(not os.path.exists(os.path.join(d, "x.h5")), "nothing written")
c.done()
