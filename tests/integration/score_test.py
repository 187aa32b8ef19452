"""score end to end: ingest the panel minus its last week -> train -> promote (loose rules) -> ingest --append the
last week -> score under mpirun -n 2: the forecasts start the day after the appended week (the state moved on,
no refit; the registries untouched byte for byte), finite and ordered intervals; naive models forecast the
appended last value; the SQLite rows equal the export, scoring again with the run id keeps the row count; 1x1
gives the same export byte for byte; keys not promoted are listed."""
import datetime
import json
import os
import sqlite3

from common import digest, Checks, panel_and_last_week, read_csv, run, workdir

c = Checks("score")
d = workdir()
H = 7
lake = os.path.join(d, "lake.h5")
old, week, body, last_day = panel_and_last_week(d, 5)
ingest = ["--keys", "store,item", "--time", "date", "--target", "sales", "--covariates", "price,promo"]
run(["ingest", "--input", old, *ingest, "--out", lake])

scored = {}
for models in ("naive", "auto"):
    m = os.path.join(d, models)
    os.mkdir(m)
    lk, reg, prod = (os.path.join(m, f) for f in ("lake.h5", "reg.h5", "prod.h5"))
    with open(lake, "rb") as src, open(lk, "wb") as dst:
        dst.write(src.read())
    run(["train", "--lake", lk, "--horizon", str(H), "--registry", reg, "--predictions", os.path.join(m, "train.h5"),
         "--models", models, "--quiet"], mpi=2)
    # Loose rules: most keys are promoted, the few with the largest mae are not.
    listing = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
    maes = sorted(float(r["mae"]) for r in listing if r["mae"])
    run(["promote", "--registry", reg, "--production", prod, "--rule", f"mae<{maes[-3]}"])
    prod_listing = read_csv(run(["registry", "list", "--registry", prod, "--format", "csv"]).stdout)
    promoted = {(r["store"], r["item"]) for r in prod_listing if r["status"] == "production"}
    c.ok(len(listing) // 2 < len(promoted) < len(listing), f"{models}: most keys promoted: {len(promoted)}")
    run(["ingest", "--input", week, *ingest, "--out", lk, "--append"])
    sums = (digest(reg), digest(prod))
    db = os.path.join(m, "p.db")
    out2 = os.path.join(m, "score2x2.h5")
    summary_json = os.path.join(m, "score.json")
    p = run(["score", "--lake", lk, "--production", prod, "--horizon", str(H), "--predictions", out2,
             "--sql", f"sqlite:///{db}", "--threads", "2", "--quiet", "--batch", "2", "--summary-json", summary_json],
            mpi=2, mpi_flags=["--bind-to", "none"])
    c.ok(sums == (digest(reg), digest(prod)), f"{models}: registries untouched byte for byte")
    c.ok(f"scored       {len(promoted)}: updated {len(promoted)} " in p.stdout, f"{models}: summary: {p.stdout}")
    c.ok(f"not in production  {len(listing) - len(promoted)} lake series" in p.stdout and
         "store=" in p.stdout.split("not in production")[1], f"{models}: keys not promoted listed: {p.stdout}")
    run_id = p.stdout.split("run ", 1)[1].split()[0]
    c.ok(run_id.endswith("@" + last_day), f"default run id VERSION@PERIOD: {run_id}")
    with open(summary_json) as f:
        s = json.load(f)
    c.ok(sorted(s) == ["as_saved", "as_saved_keys", "command_line", "failed", "failed_keys", "imbalance", "lake",
                       "lake_series", "new_periods", "not_in_lake", "not_in_lake_keys", "not_in_production",
                       "not_in_production_keys", "predictions", "production", "production_keys", "ranks", "run_id",
                       "schedule", "scored", "seconds", "updated"], f"{models}: summary JSON fields: {sorted(s)}")
    c.ok(s["run_id"] == run_id and s["scored"] == s["updated"] == s["production_keys"] == len(promoted) and
         s["not_in_production"] == len(listing) - len(promoted) and
         s["lake_series"] == s["scored"] + s["not_in_production"] and
         s["as_saved"] == s["failed"] == s["not_in_lake"] == 0 and s["seconds"] > 0, f"{models}: summary JSON: {s}")
    c.ok((s["predictions"], s["production"], s["lake"]) == tuple(map(os.path.realpath, (out2, prod, lk))) and
         s["schedule"] == "static" and
         s["command_line"].endswith(" score --lake " + lk + " --production " + prod + f" --horizon {H} --predictions "
                                    + out2 + f" --sql sqlite:///{db} --threads 2 --quiet --batch 2 --summary-json "
                                    + summary_json), f"{models}: summary JSON paths and command line: {s}")
    c.ok([r["rank"] for r in s["ranks"]] == [0, 1] and sum(r["models"] for r in s["ranks"]) == len(promoted) and
         s["imbalance"] >= 1 and s["ranks"][0]["write_seconds"] > 0, f"{models}: summary JSON ranks: {s['ranks']}")
    export = run(["predictions", "export", "--predictions", out2]).stdout
    rows = read_csv(export)
    c.ok(len(rows) == len(promoted) * H, f"{models}: one row set per production key: {len(rows)}")
    c.ok({(r["store"], r["item"]) for r in rows} == promoted, f"{models}: the production keys")
    first = (datetime.date.fromisoformat(last_day) + datetime.timedelta(days=1)).isoformat()
    c.ok(all(r["time"] == first for r in rows if r["step"] == "1"), f"{models}: first forecast date {first}")
    for r in rows:
        v = [float(r[k]) for k in ("lo95", "lo80", "forecast", "hi80", "hi95")]
        c.ok(all(x == x and abs(x) < 1e300 for x in v) and v == sorted(v), f"{models}: finite, ordered: {r}")
    if models == "naive":
        last = {(r[1], r[2]): float(r[3]) for r in body if r[0] == last_day}
        c.ok(all(float(r["forecast"]) == last[(r["store"], r["item"])] for r in rows),
             "naive: the forecast is the appended last value")
    # SQLite rows equal the export; scoring again with the run id replaces them.
    con = sqlite3.connect(db)
    sql_rows = con.execute("SELECT store, item, step, time, forecast, lo80, hi80, lo95, hi95, model, run_id, version "
                           "FROM predictions ORDER BY store, item, step").fetchall()
    con.close()
    c.ok(len(sql_rows) == len(rows) and all(
        (str(a[0]), str(a[1]), str(a[2]), a[3], a[9]) == (b["store"], b["item"], b["step"], b["time"], b["model"]) and
        all(x == float(b[k]) for x, k in zip(a[4:9], ("forecast", "lo80", "hi80", "lo95", "hi95")))
        for a, b in zip(sql_rows, rows)), f"{models}: SQLite rows equal the export")
    versions = {r["version"] for r in prod_listing if r["status"] == "production"}
    c.ok({a[10] for a in sql_rows} == {run_id} and {a[11] for a in sql_rows} == versions, "run_id and version")
    out1 = os.path.join(m, "score1x1.h5")
    run(["score", "--lake", lk, "--production", prod, "--horizon", str(H), "--predictions", out1,
         "--sql", f"sqlite:///{db}", "--run-id", run_id, "--threads", "1", "--quiet"])
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM predictions").fetchone()[0]
    con.close()
    c.ok(n == len(rows), f"{models}: scoring again with the run id keeps the row count: {n}")
    c.ok(run(["predictions", "export", "--predictions", out1]).stdout == export, f"{models}: 1x1 export identical")

# Usage errors: exit 2 before anything is read or written.
p = run(["score", "--lake", lake, "--production", lake, "--horizon", "0", "--predictions", os.path.join(d, "x.h5")],
        check=False)
c.ok(p.returncode == 2 and "--horizon" in p.stderr, f"--horizon 0: {p.stderr}")
p = run(["score", "--lake", lake, "--production", os.path.join(d, "naive", "prod.h5"), "--horizon", "3",
         "--predictions", lake], check=False)
c.ok(p.returncode == 2 and "--predictions" in p.stderr and "--lake" in p.stderr, f"--predictions = --lake: {p.stderr}")
c.ok(not os.path.exists(os.path.join(d, "x.h5")), "nothing written")
c.done()
