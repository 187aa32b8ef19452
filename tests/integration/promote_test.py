"""promote end to end: generate -> ingest -> train twice (two versions) -> promote with rules -> the production
registry listed (production / archived) -> a second promotion with --compare -> rollback -> dry runs; usage errors
(bad rules, --production naming --registry) exit 2 before anything is read or written."""
import os
import time

import h5py

from common import digest, Checks, read_csv, run, workdir

c = Checks("promote")
d = workdir()
H = 14
panel, lake = os.path.join(d, "panel.csv"), os.path.join(d, "lake.h5")
reg1, reg2, prod = (os.path.join(d, f) for f in ("reg1.h5", "reg2.h5", "prod.h5"))


def listing(path):
    return read_csv(run(["registry", "list", "--registry", path, "--format", "csv"]).stdout)


def key(r):
    return (int(r["store"]), int(r["item"]))


run(["generate", "--out", panel, "--stores", "3", "--items", "4", "--length", "200", "--seed", "3"])
run(["ingest", "--input", panel, "--keys", "store,item", "--time", "date", "--target", "sales", "--out", lake])
run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg1, "--predictions", os.path.join(d, "p1.h5"),
     "--models", "naive", "--quiet"], mpi=2)
time.sleep(1.1)  # versions are run ids that sort by time (to the second)
run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg2, "--predictions", os.path.join(d, "p2.h5"),
     "--models", "snaive,theta", "--ensemble", "none", "--quiet"], mpi=2)
s1, s2 = listing(reg1), listing(reg2)
v1, v2 = s1[0]["version"], s2[0]["version"]
c.ok(v1 < v2 and len(s1) == len(s2) == 12, f"two staged versions: {v1} {v2}")
staged1 = [r for r in s1 if r["status"] == "staged"]
reg1_sum, reg2_sum = digest(reg1), digest(reg2)

# Usage errors: exit 2, naming the rule or both options, nothing written.
for rule in ("smape<<20", "accuracy>80", "smape<abc", "smape=20"):
    p = run(["promote", "--registry", reg1, "--production", prod, "--rule", rule], check=False)
    c.ok(p.returncode == 2 and rule in p.stderr, f"bad rule {rule}: {p.returncode} {p.stderr}")
p = run(["promote", "--registry", reg1, "--production", reg1, "--rule", "smape<20"], check=False)
c.ok(p.returncode == 2 and "--production" in p.stderr and "--registry" in p.stderr, f"--production = --registry: {p.stderr}")
os.symlink(reg1, os.path.join(d, "link.h5"))
p = run(["promote", "--registry", reg1, "--production", os.path.join(d, "link.h5"), "--rule", "smape<20"], check=False)
c.ok(p.returncode == 2 and "--production" in p.stderr, f"--production a link to --registry: {p.stderr}")
p = run(["promote", "--registry", reg1, "--production", prod], check=False)
c.ok(p.returncode == 2 and "--rule" in p.stderr, f"no rule: {p.stderr}")
p = run(["promote", "--registry", reg1, "--production", prod, "--rule", "smape<20", "--compare", "n_obs"], check=False)
c.ok(p.returncode == 2 and "--compare" in p.stderr, f"--compare n_obs: {p.stderr}")
p = run(["promote", "--registry", reg1, "--production", prod, "--rule", "smape<20", "--margin", "0.1"], check=False)
c.ok(p.returncode == 2 and "--margin" in p.stderr, f"--margin without --compare: {p.stderr}")
c.ok(not os.path.exists(prod) and digest(reg1) == reg1_sum, "usage errors write nothing")

# A dry run prints what a promotion would do and writes nothing.
rules = ["--rule", "smape<200", "--rule", "n_obs>=10"]
p = run(["promote", "--registry", reg1, "--production", prod, *rules, "--dry-run"])
c.ok("dry run" in p.stdout and p.stdout.count("\npromote  ") + p.stdout.startswith("promote  ") == len(staged1),
     f"dry run lists each promotion: {p.stdout}")
c.ok(not os.path.exists(prod) and not [f for f in os.listdir(d) if ".tmp-" in f], "dry run writes nothing")

# First promotion: every staged model passes.
p = run(["promote", "--registry", reg1, "--production", prod, *rules])
c.ok(f"promoted     {len(staged1)} " in p.stdout, f"summary: {p.stdout}")
c.ok(p.stderr.strip() != "" and "promote" in p.stderr, "a log line on stderr")
rows = listing(prod)
c.ok([key(r) for r in rows] == [key(r) for r in staged1] and all(r["status"] == "production" for r in rows) and
     all(r["version"] == v1 for r in rows), f"first promotion: {rows}")
c.ok(digest(reg1) == reg1_sum, "the staging registry is unchanged, byte for byte")

# A rule that rejects: mase<0 fails every model; counted by rule.
p = run(["promote", "--registry", reg2, "--production", prod, "--rule", "smape<200", "--rule", "mase<0", "--dry-run"])
c.ok(f"mase<0 failed: {len([r for r in s2 if r['status'] == 'staged'])}" in p.stdout, f"rejected by rule: {p.stdout}")

# Second promotion, champion/challenger on smape with a 5% margin.
prod_before = digest(prod)
p = run(["promote", "--registry", reg2, "--production", prod, "--rule", "smape<200", "--compare", "smape",
         "--margin", "0.05"])
old = {key(r): float(r["smape"]) for r in staged1}
winners = {key(r) for r in s2 if r["status"] == "staged" and key(r) in old and
           float(r["smape"]) <= old[key(r)] * 0.95 and float(r["smape"]) < old[key(r)]}
c.ok(0 < len(winners) < len(old), f"the test data has winners and losers: {len(winners)} of {len(old)}")
rows = listing(prod)
by_key = {}
for r in rows:
    by_key.setdefault(key(r), []).append((r["version"], r["status"]))
for k, versions in by_key.items():
    want = [(v1, "archived"), (v2, "production")] if k in winners else [(v1, "production")]
    c.ok(versions == want, f"{k}: {versions}, expected {want}")
c.ok([key(r) for r in rows] == sorted(key(r) for r in rows), "rows sorted by key, then version")
c.ok(f"promoted     {len(winners)} " in p.stdout and f"kept         {len(old) - len(winners)} " in p.stdout,
     f"summary of the second promotion: {p.stdout}")
c.ok(digest(reg2) == reg2_sum, "the second staging registry is unchanged")
w = sorted(winners)[0]
show = run(["registry", "show", "--registry", prod, "--key", f"store={w[0]},item={w[1]}"]).stdout
c.ok(f"version      {v2}" in show and "status       production" in show and
     f"archived     1 version(s), newest first: {v1}" in show, f"registry show on production: {show}")

with h5py.File(prod, "r") as f:
    c.ok(f.attrs["kind"] == "manymodels-registry" and f.attrs["schema_version"] == 3 and
         f.attrs["role"] == "production", "production registry attributes")
    c.ok("promote" in f.attrs["command_line"] and f"registry={os.path.realpath(reg2)}" in f.attrs["inputs"],
         f"provenance: {f.attrs['inputs']}")

    def col(name):
        values = [v.decode() for v in f[f"audit/{name}/values"][:]]
        return [values[k] for k in f[f"audit/{name}/codes"][:]]
    actions = col("action")
    c.ok(len(actions) == 2 * len(old), f"audit: one row per decision, both promotions: {len(actions)}")
    c.ok(actions.count("kept") == len(old) - len(winners) and actions.count("promote") == len(old) + len(winners),
         "audit actions")
    c.ok(all(u for u in col("user")) and all(t.endswith("Z") for t in col("time")), "audit user and time")

# Rollback: a dry run first, then the real one; every key goes back to v1.
before = digest(prod)
p = run(["promote", "--production", prod, "--rollback", v2, "--dry-run"])
c.ok(p.stdout.count("rollback  ") == len(winners) and digest(prod) == before, f"rollback dry run: {p.stdout}")
p = run(["promote", "--production", prod, "--rollback", v2])
rows = listing(prod)
c.ok(all((r["status"] == "production") == (r["version"] == v1) for r in rows), f"after rollback: {rows}")
c.ok(len([r for r in rows if r["status"] == "production"]) == len(old), "every key has its v1 model again")
p = run(["promote", "--production", prod, "--rollback", v2], check=False)
c.ok(p.returncode == 1 and "nothing to roll back" in p.stderr, f"a second rollback: {p.stderr}")

# The job file: [promote] rules (a repeated key), --keys limiting the keys.
keys = os.path.join(d, "keys.csv")
with open(keys, "w") as f:
    f.write(f"item,store\n{w[1]},{w[0]}\n")
job = os.path.join(d, "job.ini")
with open(job, "w") as f:
    f.write(f"lake = {lake}\nregistry = {reg2}\nproduction = {prod}\nhorizon = {H}\n\n[train]\nmodels = naive\n\n"
            "[promote]\nrule = smape<200\nrule = n_obs>=10\n")
p = run(["promote", "--config", job, "--keys", keys])
c.ok("promoted     0 " in p.stdout and "outside --keys" in p.stdout, f"v2 was rolled back: not promoted again: {p.stdout}")
p = run(["promote", "--config", job, "--rule", "smape<<1"], check=False)
c.ok(p.returncode == 2 and "smape<<1" in p.stderr, "a bad rule on the command line with a job file")

# A production registry of schema 2 (an earlier build's: /note dictionary-coded like /model) is still read, and
# promoting into it writes schema 3 with its rows and notes carried over.
old_prod = os.path.join(d, "prod-schema2.h5")
with h5py.File(prod, "r") as f, h5py.File(old_prod, "w") as g:
    for name in f:
        if name != "note":
            f.copy(name, g)
    for a, v in f.attrs.items():
        g.attrs[a] = v
    n = len(f["note/size"])
    g.attrs["schema_version"] = 2
    notes = [f"schema-2 note {i % 5}" for i in range(n)]  # a dictionary of 5 values
    g.create_dataset("note/values", data=[f"schema-2 note {k}".encode() for k in range(5)],
                     dtype=h5py.string_dtype("utf-8"))
    g.create_dataset("note/codes", data=[i % 5 for i in range(n)], dtype="int32")
rows_v2 = listing(old_prod)
c.ok([r["note"] for r in rows_v2] == notes and
     [{k: v for k, v in r.items() if k != "note"} for r in rows_v2] ==
     [{k: v for k, v in r.items() if k != "note"} for r in listing(prod)],
     f"schema 2 listed as written: {[r['note'] for r in rows_v2][:3]}")
p = run(["promote", "--registry", reg1, "--production", old_prod, "--rule", "smape<1000"])
with h5py.File(old_prod, "r") as f:
    c.ok(f.attrs["schema_version"] == 3, "promoting into a schema 2 registry writes schema 3")
carried = {(r["store"], r["item"], r["version"]): r["note"] for r in listing(old_prod)}
c.ok(all(carried[(r["store"], r["item"], r["version"])] == note for r, note in zip(rows_v2, notes)),
     "the schema 2 rows kept their notes")
c.done()
