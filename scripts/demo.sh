#!/usr/bin/env bash
# The first command of the README: install, build, and run the demo job end to end
# (generate a sample panel -> ingest it into the HDF5 lake -> train with 2 MPI ranks -> promote by the job's
# rules -> the predictions also as a SQLite table -> an HTML report -> show the results).
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
