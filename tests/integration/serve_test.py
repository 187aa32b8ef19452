"""serve end to end, a real server on a loopback port: train -> promote -> ingest --append a week -> score (the
reference) -> serve --port 0 with a cache of 4 models. Each production key's forecast equals score's row for row
(values, times; both forms of the key); bad parameters give 400 and unknown keys 404 with a JSON error; the cache
stays within its bound and evicts; /metrics parses as Prometheus text and counts what was asked; /healthz.
A new promotion (a second training run) replaces the production registry while a client streams requests: no
request fails, every response pairs the registry version with that registry's model version, and the new
version arrives without a restart. SIGTERM ends the server with exit 0 and a message. Start-up errors (a port in
use, a file that is not a registry) exit 1 naming the problem."""
import datetime
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

from common import BINARY, Checks, panel_and_last_week, read_csv, run, workdir

c = Checks("serve")
d = workdir()
H = 7
lake = os.path.join(d, "lake.h5")
old, week, body, last_day = panel_and_last_week(d, 7)
ingest = ["--keys", "store,item", "--time", "date", "--target", "sales", "--covariates", "price,promo"]
run(["ingest", "--input", old, *ingest, "--out", lake])
reg, prod = os.path.join(d, "reg.h5"), os.path.join(d, "prod.h5")
run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg, "--predictions", os.path.join(d, "t.h5"),
     "--quiet"], mpi=2)
listing = read_csv(run(["registry", "list", "--registry", reg, "--format", "csv"]).stdout)
maes = sorted(float(r["mae"]) for r in listing if r["mae"])
run(["promote", "--registry", reg, "--production", prod, "--rule", f"mae<{maes[-2]}"])
prod_rows = read_csv(run(["registry", "list", "--registry", prod, "--format", "csv"]).stdout)
promoted = {(r["store"], r["item"]): r["version"] for r in prod_rows if r["status"] == "production"}
not_promoted = [(r["store"], r["item"]) for r in listing if (r["store"], r["item"]) not in promoted]
c.ok(promoted and not_promoted, f"some keys promoted, some not: {len(promoted)}")
run(["ingest", "--input", week, *ingest, "--out", lake, "--append"])
scored = os.path.join(d, "score.h5")
run(["score", "--lake", lake, "--production", prod, "--horizon", str(H), "--predictions", scored, "--quiet"])
reference = {}
for r in read_csv(run(["predictions", "export", "--predictions", scored]).stdout):
    reference.setdefault((r["store"], r["item"]), []).append(r)


def start(*extra):
    p = subprocess.Popen([BINARY, "serve", "--production", prod, "--lake", lake, "--port", "0", *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = p.stdout.readline().strip()
    c.ok(re.fullmatch(r"http://127\.0\.0\.1:\d+", url) is not None, f"listens on loopback: {url!r}")
    return p, url


def get(url, path):
    """(status, parsed JSON or text body)."""
    try:
        with urllib.request.urlopen(url + path, timeout=30) as r:
            status, body, ctype = r.status, r.read().decode(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        status, body, ctype = e.code, e.read().decode(), e.headers.get("Content-Type", "")
    return status, (json.loads(body) if ctype.startswith("application/json") else body)


server, url = start("--cache-models", "4", "--reload-every", "0.2")
try:
    # 1. Every production key, both key forms, equals score's forecast.
    for (store, item), ref in sorted(reference.items()):
        for query in (f"store={store}&item={item}&h={H}", f"key=store%3D{store}%2Citem%3D{item}&h={H}"):
            status, j = get(url, "/v1/forecast?" + query)
            c.ok(status == 200, f"{query}: {status} {j}")
            c.ok(j["key"] == {"store": int(store), "item": int(item)}, f"key echoed: {j['key']}")
            c.ok(j["version"] == promoted[(store, item)], f"the production version: {j['version']}")
            c.ok(j["model"] == ref[0]["model"], f"model {j['model']} vs {ref[0]['model']}")
            c.ok(len(j["forecast"]) == H, f"{H} steps")
            for s, r in zip(j["forecast"], ref):
                c.ok(s["step"] == int(r["step"]) and s["time"] == r["time"], f"step/time {s} vs {r}")
                for k in ("forecast", "lo80", "hi80", "lo95", "hi95"):
                    a, b = s[k], float(r[k])
                    c.ok(abs(a - b) <= 1e-9 * max(1.0, abs(b)), f"{store},{item} step {s['step']} {k}: {a} vs {b}")
    c.ok(set(reference) == set(promoted), "score and serve know the same production keys")
    (store, item) = sorted(reference)[0]
    status, j = get(url, f"/v1/forecast?store={store}&item={item}")
    c.ok(status == 200 and len(j["forecast"]) == H, f"h defaults to the registry's horizon: {len(j['forecast'])}")
    c.ok(j["forecast"][0]["time"] == (datetime.date.fromisoformat(last_day) + datetime.timedelta(days=1)).isoformat()
         and j["updated_periods"] == 7, f"brought up to the appended week: {j['origin']} {j['updated_periods']}")
    status, j = get(url, f"/v1/forecast?store={store}&item={item}&h={4 * H}")
    c.ok(status == 200 and len(j["forecast"]) == 4 * H, "h up to four times the horizon")

    # 2. Errors: 400 for parameters, 404 for keys and routes, always a JSON error.
    for query, code, words in [
        (f"store={store}&item={item}&h=0", 400, "h:"),
        (f"store={store}&item={item}&h={4 * H + 1}", 400, "h:"),
        (f"store={store}&item={item}&h=two", 400, "h:"),
        (f"store={store}&item={item}&color=red", 400, "unknown parameter 'color'"),
        (f"store={store}", 400, "no value for the key column 'item'"),
        (f"store=abc&item={item}", 400, "store: 'abc' is not an integer"),
        (f"store={store}&store=2&item={item}", 400, "more than once"),
        (f"key=store%3D{store}%2Citem%3D{item}&store={store}", 400, "not both"),
        (f"key=store%3D{store}", 400, "no value for key column 'item'"),
        (f"store=%FF&item={item}", 400, "store: '\ufffd' is not an integer"),  # a byte that is not UTF-8
        (f"store={store}&item={item}&h=%FF", 400, "h:"),
        ("store=999&item=1", 404, "no series store=999, item=1 in the lake"),
        (f"store={not_promoted[0][0]}&item={not_promoted[0][1]}", 404, "no production model"),
    ]:
        status, j = get(url, "/v1/forecast?" + query)
        c.ok(status == code and isinstance(j, dict) and words in j.get("error", ""), f"{query}: {status} {j}")
    status, j = get(url, "/v2/nothing")
    c.ok(status == 404 and "no route" in j["error"], f"unknown route: {status} {j}")

    # 3. /healthz and /metrics.
    status, j = get(url, "/healthz")
    c.ok(status == 200 and j["status"] == "ok" and j["models_loaded"] <= 4, f"healthz: {j}")
    status, text = get(url, "/metrics")
    c.ok(status == 200 and isinstance(text, str), "metrics is text")
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)', line)
        c.ok(m is not None, f"a Prometheus sample line: {line!r}")
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    ok_200 = samples.get('manymodels_requests_total{route="/v1/forecast",code="200"}')
    c.ok(ok_200 == 2 * len(reference) + 2, f"200s counted: {ok_200}")
    c.ok(samples.get('manymodels_requests_total{route="/v1/forecast",code="400"}') == 11, "400s counted")
    c.ok(samples.get('manymodels_requests_total{route="/v1/forecast",code="404"}') == 2, "404s counted")
    n_forecast = samples['manymodels_request_duration_seconds_count{route="/v1/forecast"}']
    c.ok(n_forecast == 2 * len(reference) + 15 and
         samples['manymodels_request_duration_seconds_bucket{route="/v1/forecast",le="+Inf"}'] == n_forecast,
         f"latency histogram counts every forecast request: {n_forecast}")
    c.ok(samples["manymodels_models_loaded"] <= 4 and samples["manymodels_cache_capacity_models"] == 4,
         "the cache stays within --cache-models")
    c.ok(samples["manymodels_cache_evictions_total"] >= len(reference) - 4, "the cache evicted")
    c.ok(samples["manymodels_cache_hits_total"] >= len(reference), "repeated keys hit the cache")
    c.ok(any(k.startswith("manymodels_registry_info{") for k in samples), "registry version")

    # 4. A new promotion replaces the registry under a stream of requests: none fails, none mixes versions.
    _, before = get(url, "/healthz")
    keys = sorted(reference)
    seen, failures, stop = [], [], threading.Event()

    def client():
        i = 0
        while not stop.is_set():
            k = keys[i % len(keys)]
            i += 1
            try:
                status, j = get(url, f"/v1/forecast?store={k[0]}&item={k[1]}&h=3")
                if status != 200:
                    failures.append((status, j))
                else:
                    seen.append((j["registry_version"], j["version"]))
            except Exception as e:  # a refused or reset connection is a failed request too
                failures.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    reg2 = os.path.join(d, "reg2.h5")
    time.sleep(1.1)  # a new run id (it has one-second resolution)
    run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg2, "--predictions", os.path.join(d, "t2.h5"),
         "--models", "naive", "--quiet"])
    run(["promote", "--registry", reg2, "--production", prod, "--rule", "n_obs>0"])
    new_version = read_csv(run(["registry", "list", "--registry", reg2, "--format", "csv"]).stdout)[0]["version"]
    deadline = time.time() + 20
    while time.time() < deadline and not any(v == new_version for _, v in seen):
        time.sleep(0.1)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join()
    c.ok(not failures, f"no request failed during the promotion: {failures[:3]}")
    c.ok(any(v == new_version for _, v in seen), "the new version is served without a restart")
    old_pairs = {(r, v) for r, v in seen if r == before["registry_version"]}
    new_pairs = {(r, v) for r, v in seen if r != before["registry_version"]}
    c.ok(old_pairs and all(v in set(promoted.values()) for _, v in old_pairs), f"old registry, old models: {old_pairs}")
    c.ok(new_pairs and all(v == new_version for _, v in new_pairs), f"new registry, new models only: {new_pairs}")
    _, after = get(url, "/healthz")
    c.ok(after["generation"] == before["generation"] + 1, f"one reload: {before} -> {after}")
    status, j = get(url, f"/v1/forecast?store={not_promoted[0][0]}&item={not_promoted[0][1]}")
    c.ok(status == 200 and j["model"].startswith("Naive"), f"a key promoted now is served: {status} {j}")

    # 5. SIGTERM: exit 0, said on stderr.
    server.send_signal(signal.SIGTERM)
    rc = server.wait(timeout=20)
    err = server.stderr.read()
    c.ok(rc == 0 and "SIGTERM" in err and "reloaded" in err, f"SIGTERM: exit {rc}: {err}")
finally:
    if server.poll() is None:
        server.kill()

# 6. Start-up errors: exit 1 naming the problem, before listening.
blocker, burl = start()
port = burl.rsplit(":", 1)[1]
p = run(["serve", "--production", prod, "--lake", lake, "--port", port], check=False)
c.ok(p.returncode == 1 and f"127.0.0.1:{port}" in p.stderr and p.stdout == "", f"port in use: {p.returncode} {p.stderr}")
blocker.send_signal(signal.SIGINT)
c.ok(blocker.wait(timeout=20) == 0, "SIGINT ends it too")
p = run(["serve", "--production", lake, "--lake", lake, "--port", "0"], check=False)
c.ok(p.returncode == 1 and "lake.h5" in p.stderr and p.stdout == "", f"a lake as registry: {p.returncode} {p.stderr}")
# Models of other series (keyed by store alone): serve and score refuse them, naming both files.
reg_store, prod_store = os.path.join(d, "reg_store.h5"), os.path.join(d, "prod_store.h5")
run(["train", "--lake", lake, "--horizon", str(H), "--registry", reg_store, "--predictions",
     os.path.join(d, "t_store.h5"), "--models", "naive", "--partition-by", "store", "--quiet"])
run(["promote", "--registry", reg_store, "--production", prod_store, "--rule", "n_obs>0"])
for args in (["serve", "--production", prod_store, "--lake", lake, "--port", "0"],
             ["score", "--production", prod_store, "--lake", lake, "--horizon", "3", "--predictions",
              os.path.join(d, "s_store.h5"), "--quiet"]):
    p = run(args, check=False)
    c.ok(p.returncode == 1 and "prod_store.h5 has the key columns (store), the lake" in p.stderr and
         "(store,item)" in p.stderr and p.stdout == "", f"{args[0]}: models of other keys: {p.returncode} {p.stderr}")
c.ok(not os.path.exists(os.path.join(d, "s_store.h5")), "score wrote nothing")
p = run(["serve", "--production", prod, "--lake", lake, "--port", "70000"], check=False)
c.ok(p.returncode == 2 and "--port" in p.stderr, f"--port 70000: {p.stderr}")
c.done()
