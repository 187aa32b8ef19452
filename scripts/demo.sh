#!/usr/bin/env bash
# The first command of the README: install, build, and run the demo job end to end
# (generate a sample panel -> ingest it into the HDF5 lake -> train with 2 MPI ranks -> promote by the job's
# rules -> score with 2 MPI ranks -> serve one forecast over HTTP -> the predictions also as a SQLite table ->
# an HTML report -> show the results).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
MM=$PWD/build/manymodels
JOB=jobs/demo.ini
mkdir -p out/demo

echo "== generate a sample panel (50 stores x 20 items x 3 years, daily)"
"$MM" generate --config "$JOB"
echo "== ingest it into the lake"
"$MM" ingest --config "$JOB"
echo "== train one model per store x item with 2 MPI ranks"
mpirun -n 2 --oversubscribe "$MM" train --config "$JOB"
"$MM" registry list --registry out/demo/registry.h5 > out/demo/registry.txt
"$MM" predictions export --predictions out/demo/predictions.h5 --out out/demo/predictions.csv
echo "== promote the models that meet the rules ([promote] in $JOB) into the production registry"
"$MM" promote --config "$JOB"
echo "== score the production models (their state brought up to the lake, no refit) with 2 MPI ranks"
mpirun -n 2 --oversubscribe "$MM" score --config "$JOB" --quiet
echo "== serve: one real-time forecast over HTTP (the model loads on this first request)"
"$MM" serve --config "$JOB" --port 0 > out/demo/serve.url 2> out/demo/serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s out/demo/serve.url ] && break; sleep 0.1; done
url=$(cat out/demo/serve.url)
# A key with a production model (the rules may leave some keys without one).
key=$("$MM" registry list --registry out/demo/production.h5 --format csv | python3 -c '
import csv, sys
rows = [r for r in csv.DictReader(sys.stdin) if r["status"] == "production"]
print("store=" + rows[0]["store"] + "&item=" + rows[0]["item"] if rows else "")')
if [ -n "$key" ]; then
  echo "GET $url/v1/forecast?$key&h=3"
  python3 -c '
import json, sys, urllib.request
j = json.load(urllib.request.urlopen(sys.argv[1]))
print(json.dumps({k: v for k, v in j.items() if k != "forecast"}))
for step in j["forecast"]:
    print("  " + json.dumps(step))' "$url/v1/forecast?$key&h=3"
else
  echo "(no key passed the rules: nothing to ask)"
fi
kill -TERM $server && wait $server
trap - EXIT
echo "== the predictions as a SQL table (SQLite)"
"$MM" predictions export --predictions out/demo/predictions.h5 --sql sqlite://out/demo/predictions.db
echo "== an HTML report"
"$MM" report --registry out/demo/registry.h5 --predictions out/demo/predictions.h5 \
  --production out/demo/production.h5 --lake out/demo/lake.h5 --out out/demo/report.html
echo "== the registry: $(($(wc -l < out/demo/registry.txt) - 1)) models (first rows)"
head -n 8 out/demo/registry.txt
echo "== predictions: $(($(wc -l < out/demo/predictions.csv) - 1)) rows (first rows)"
head -n 6 out/demo/predictions.csv
echo
echo "outputs in $PWD/out/demo:"
echo "  panel.csv.gz (input), lake.h5 (the lake), registry.h5 + registry.txt, predictions.h5 + predictions.csv,"
echo "  production.h5 (promoted models and their audit), scores.h5 (score's forecasts), predictions.db (SQLite"
echo "  table predictions), report.html"
