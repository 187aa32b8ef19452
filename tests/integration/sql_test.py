"""predictions export --sql: a real predictions file into SQLite and into a throw-away PostgreSQL server (Debian's
postgresql package: initdb, pg_ctl), the same rows in both and in the CSV export; the same run id replaces its
rows, another adds; a failure leaves the previous rows; other key columns are refused. score --sql writes its
forecasts into PostgreSQL, the same rows as its predictions file, and scoring again with the run id replaces them."""
import csv
import glob
import math
import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile

import h5py

from common import Checks, read_csv, run, workdir

c = Checks("sql")

bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
if not bins:
    sys.stderr.write("sql: FAILED: no PostgreSQL server (/usr/lib/postgresql/*/bin/initdb): install Debian's "
                     "postgresql package (scripts/bootstrap.sh does)\n")
    raise SystemExit(1)
PG_BIN = os.path.dirname(bins[-1])
if os.geteuid() == 0 and not os.stat("/").st_mode & 0o001:
    # The server must run as the postgres user, who cannot reach anything when "/" is closed to others (a
    # chroot whose folder was made by mktemp -d, mode 700).
    sys.stderr.write("sql: FAILED: '/' is not searchable by other users (mode %o): the postgres user cannot run "
                     "the server here\n" % (os.stat("/").st_mode & 0o777))
    raise SystemExit(1)
AS_ROOT = os.geteuid() == 0  # initdb and postgres refuse to run as root: run them as the postgres user


def pg_server(args, **kw):
    """Runs a server program, as the postgres user when we are root (switched by Python itself: `runuser`
    needs PAM, which a minimal root may not have). Its stderr goes to ours when it fails."""
    as_user = {"user": "postgres", "group": "postgres", "extra_groups": []} if AS_ROOT else {}
    p = subprocess.run(args, capture_output=True, text=True, **as_user, **kw)
    if p.returncode != 0:
        sys.stderr.write(f"sql: {' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}\n")
        raise subprocess.CalledProcessError(p.returncode, args)
    return p


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


d = workdir()
pg = tempfile.mkdtemp(prefix="mm_pg_")
if AS_ROOT:
    shutil.chown(pg, "postgres", "postgres")
port = free_port()
started = False


def psql(sql, db="fc", check=True):
    p = subprocess.run([f"{PG_BIN}/psql", "-X", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                        "-p", str(port), "-U", "mm", "-d", db, "-c", sql], capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.stderr.write(f"sql: psql failed: {sql}\n{p.stderr}\n")
        raise SystemExit(1)
    return p


def pg_rows(sql):
    return [line.split("\t") for line in psql(sql).stdout.splitlines()]


def lite_rows(db, sql):
    with sqlite3.connect(db) as con:
        return con.execute(sql).fetchall()


COLUMNS = "store, item, run_id, version, step, time, forecast, lo80, hi80, lo95, hi95, model"
SELECT = f"SELECT {COLUMNS} FROM predictions WHERE run_id = '{{}}' ORDER BY store, item, step"


def pg_value(text, kind):  # psql -At prints NULL as an empty field
    if kind == "float":
        return None if text == "" else float(text)
    return int(text) if kind == "int" else text


KINDS = ["text", "int", "text", "text", "int", "text", *["float"] * 5, "text"]

try:
    # --- the server
    pg_server([f"{PG_BIN}/initdb", "-D", f"{pg}/data", "-U", "mm", "--auth=trust", "-E", "UTF8", "--locale=C",
               "--no-sync"], cwd=pg)
    pg_server([f"{PG_BIN}/pg_ctl", "-D", f"{pg}/data", "-l", f"{pg}/log", "-w", "-t", "60", "-o",
               f"-p {port} -k {pg} -c listen_addresses=127.0.0.1 -F", "start"], cwd=pg)
    started = True
    psql("CREATE DATABASE fc", db="postgres")
    url = f"postgresql://mm@127.0.0.1:{port}/fc"

    # --- a real predictions file, with a text key column (store S-1 ...), a NaN and an infinity in it
    run(["generate", "--out", f"{d}/panel.csv", "--stores", "3", "--items", "4", "--length", "150"])
    with open(f"{d}/panel.csv") as f, open(f"{d}/panel2.csv", "w", newline="") as g:
        rows = list(csv.DictReader(f))
        w = csv.DictWriter(g, fieldnames=list(rows[0].keys()))
        w.writeheader()
        for r in rows:
            w.writerow({**r, "store": "S-" + r["store"]})
    run(["ingest", "--input", f"{d}/panel2.csv", "--keys", "store,item", "--time", "date", "--target", "sales",
         "--covariates", "price,promo", "--out", f"{d}/lake.h5"])
    run(["train", "--lake", f"{d}/lake.h5", "--horizon", "7", "--registry", f"{d}/registry.h5", "--predictions",
         f"{d}/pred.h5", "--models", "naive,snaive", "--quiet"], mpi=2)
    with h5py.File(f"{d}/pred.h5", "r+") as f:
        run_id = f.attrs["run_id"]
        run_id = run_id.decode() if isinstance(run_id, bytes) else str(run_id)
        f["lo80"][0] = math.nan
        f["hi95"][1] = math.inf
    n = 12 * 7
    export = read_csv(run(["predictions", "export", "--predictions", f"{d}/pred.h5"]).stdout)
    c.ok(len(export) == n, "the CSV export has a row per series and step")

    # --- SQLite and PostgreSQL
    lite = f"{d}/p.db"
    p = run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql", f"sqlite://{lite}"])
    c.ok(p.stdout == "" and f"{n} rows of run id {run_id}" in p.stderr, f"sqlite export reports its rows: {p.stderr}")
    p = run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql", url])
    c.ok(p.stdout == "" and f"{n} rows of run id {run_id} -> {url}" in p.stderr, f"postgres export: {p.stderr}")

    in_lite = lite_rows(lite, SELECT.format(run_id))
    in_pg = [tuple(pg_value(v, k) for v, k in zip(r, KINDS)) for r in pg_rows(SELECT.format(run_id))]
    c.ok(len(in_lite) == n and len(in_pg) == n, f"{n} rows in each ({len(in_lite)}, {len(in_pg)})")
    c.ok(in_lite == in_pg, "the same rows in SQLite and PostgreSQL")
    c.ok(all(r[2] == run_id and r[3] == run_id for r in in_lite), "run_id and version are the file's run id")
    by_key = {(r["store"], int(r["item"]), int(r["step"])): r for r in export}
    same = True
    for r in in_lite:
        e = by_key[(r[0], r[1], r[4])]
        same = same and e["time"] == r[5] and e["model"] == r[11]
        for i, name in enumerate(["forecast", "lo80", "hi80", "lo95", "hi95"]):
            same = same and (r[6 + i] is None if e[name] == "" else float(e[name]) == r[6 + i])
    c.ok(same and len(by_key) == n, "the rows are the CSV export's, value for value")
    c.ok(sum(r[7] is None for r in in_lite) == 1, "NaN is NULL")
    c.ok(pg_rows("SELECT count(*) FROM predictions WHERE lo80 IS NULL") == [["1"]], "NaN is NULL in PostgreSQL")
    c.ok(pg_rows("SELECT count(*) FROM predictions WHERE hi95 = 'Infinity'") == [["1"]], "inf is Infinity")
    types = [r[1] for r in pg_rows("SELECT column_name, data_type FROM information_schema.columns "
                                   "WHERE table_name = 'predictions' ORDER BY ordinal_position")]
    c.ok(types == ["text", "bigint", "text", "text", "integer", "text", *["double precision"] * 5, "text"],
         f"PostgreSQL column types: {types}")
    c.ok(pg_rows("SELECT indexdef FROM pg_indexes WHERE indexname = 'predictions_run_id_keys'") ==
         [["CREATE INDEX predictions_run_id_keys ON public.predictions USING btree (run_id, store, item)"]],
         "the index on run_id and the keys")

    # --- the same run id again replaces; another adds; conninfo and a relative SQLite path
    run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql", f"sqlite://{lite}"])
    run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql",
         f"postgresql://host={pg} port={port} dbname=fc user=mm"])  # key=value conninfo, the unix socket
    c.ok(lite_rows(lite, "SELECT count(*) FROM predictions") == [(n,)], "SQLite: the same run id does not double")
    c.ok(pg_rows("SELECT count(*) FROM predictions") == [[str(n)]], "PostgreSQL: the same run id does not double")
    run(["predictions", "export", "--predictions", "pred.h5", "--sql", "sqlite://p.db", "--run-id", "score-2"],
        cwd=d)
    run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql", url, "--run-id", "score-2"])
    c.ok(lite_rows(lite, "SELECT run_id, count(*) FROM predictions GROUP BY 1 ORDER BY 1") ==
         sorted([(run_id, n), ("score-2", n)]), "SQLite: another run id adds its rows")
    c.ok(pg_rows("SELECT run_id, count(*), min(version) FROM predictions GROUP BY 1 ORDER BY 1") ==
         sorted([[run_id, str(n), run_id], ["score-2", str(n), run_id]]), "PostgreSQL: another run id adds")

    # --- two exports of one run id at once: one waits for the other, the rows are not doubled (a trigger slows
    # PostgreSQL's inserts down, so that the exports overlap)
    psql("CREATE FUNCTION slow() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.005); RETURN NEW; END $$ "
         "LANGUAGE plpgsql; CREATE TRIGGER slow BEFORE INSERT ON predictions FOR EACH ROW EXECUTE FUNCTION slow()")
    for target in (url, f"sqlite://{lite}"):
        procs = [subprocess.Popen([os.environ.get("MANYMODELS", "manymodels"), "predictions", "export",
                                   "--predictions", f"{d}/pred.h5", "--sql", target, "--run-id", "score-2"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(3)]
        codes = [(p.wait(), p.stderr.read()) for p in procs]
        c.ok(all(code == 0 for code, _ in codes), f"concurrent exports to {target}: {codes}")
    psql("DROP TRIGGER slow ON predictions")
    c.ok(pg_rows("SELECT count(*) FROM predictions WHERE run_id = 'score-2'") == [[str(n)]],
         "PostgreSQL: concurrent exports of one run id do not double it")
    c.ok(lite_rows(lite, "SELECT count(*) FROM predictions WHERE run_id = 'score-2'") == [(n,)],
         "SQLite: concurrent exports of one run id do not double it")

    # --- a failure in the middle of the rows leaves the previous ones
    psql("CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN IF NEW.item = 3 THEN "
         "RAISE EXCEPTION 'item 3 refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql; "
         "CREATE TRIGGER refuse BEFORE INSERT ON predictions FOR EACH ROW EXECUTE FUNCTION refuse()")
    psql("UPDATE predictions SET model = 'old' WHERE run_id = 'score-2'")
    p = run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql", url, "--run-id", "score-2"],
            check=False)
    c.ok(p.returncode == 1 and f"{url}: cannot insert the rows: item 3 refused" in p.stderr,
         f"a refused row is an error naming the URL and the cause: {p.stderr}")
    c.ok(pg_rows("SELECT count(*), min(model), max(model) FROM predictions WHERE run_id = 'score-2'") ==
         [[str(n), "old", "old"]], "and the run id's previous rows are left as they were")
    psql("DROP TRIGGER refuse ON predictions")

    # --- errors: other key columns, no such database, a password never shown, usage
    run(["train", "--lake", f"{d}/lake.h5", "--horizon", "7", "--registry", f"{d}/reg_store.h5", "--predictions",
         f"{d}/pred_store.h5", "--models", "naive", "--partition-by", "store", "--quiet"])
    for target in (url, f"sqlite://{lite}"):
        p = run(["predictions", "export", "--predictions", f"{d}/pred_store.h5", "--sql", target], check=False)
        c.ok(p.returncode == 1 and f"{target}: the existing table predictions has the key columns (store TEXT, "
             f"item INTEGER), these predictions have (store TEXT)" in p.stderr, f"other key columns: {p.stderr}")
    bad = f"postgresql://mm:s3cret@127.0.0.1:{port}/nope"
    p = run(["predictions", "export", "--predictions", f"{d}/pred.h5", "--sql", bad], check=False)
    c.ok(p.returncode == 1 and f"postgresql://mm:***@127.0.0.1:{port}/nope: cannot connect: " in p.stderr and
         'database "nope" does not exist' in p.stderr and "s3cret" not in p.stderr, f"no such database: {p.stderr}")
    for args in (["--sql", url, "--out", f"{d}/x.csv"], ["--sql", url, "--format", "json"], ["--run-id", "x"],
                 ["--sql", "mysql://h/db"]):
        p = run(["predictions", "export", "--predictions", f"{d}/pred.h5", *args], check=False)
        c.ok(p.returncode == 2, f"usage error for {args}: {p.returncode} {p.stderr}")
    c.ok(pg_rows("SELECT count(*) FROM predictions") == [[str(2 * n)]], "errors changed nothing")

    # --- score --sql into PostgreSQL (and SQLite): the production models' forecasts, twice with one run id
    run(["promote", "--registry", f"{d}/registry.h5", "--production", f"{d}/prod.h5", "--rule", "n_obs>0"])
    for _ in range(2):
        for target in (url, f"sqlite://{lite}"):
            run(["score", "--lake", f"{d}/lake.h5", "--production", f"{d}/prod.h5", "--horizon", "5",
                 "--predictions", f"{d}/score.h5", "--sql", target, "--run-id", "scored", "--quiet"], mpi=2)
    scored_pg = [tuple(pg_value(v, k) for v, k in zip(r, KINDS)) for r in pg_rows(SELECT.format("scored"))]
    scored_lite = lite_rows(lite, SELECT.format("scored"))
    c.ok(len(scored_pg) == 12 * 5, f"score --sql: one row per production key and step, once: {len(scored_pg)}")
    c.ok(scored_pg == scored_lite, "score's rows in PostgreSQL equal its rows in SQLite")
    c.ok({r[3] for r in scored_pg} == {run_id}, "the version is the production model's")
    c.done()
finally:
    if started:
        try:
            pg_server([f"{PG_BIN}/pg_ctl", "-D", f"{pg}/data", "-m", "immediate", "-w", "stop"], cwd=pg)
        except subprocess.CalledProcessError:
            pass  # reported on stderr; the folder goes anyway
    shutil.rmtree(pg, ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)
