#!/usr/bin/env bash
# Batch scoring of the reference panel's 10,000 models (issue 7): 100 stores x 100 items x 4,000 days
# (jobs/reference.ini), trained with MODELS (default auto, as the reference runs), every model promoted
# (`promote --rule "n_obs>0"`), the panel's next week appended with `ingest --append` (every model has 7 new
# periods to take in), then `score` with 2 ranks RUNS times. Prints each run's
# wall time, CPU time (both ranks, user + sys) and per-rank read seconds and peak memory, then the medians.
# With BASELINE=path/to/older/manymodels each run is followed by one of that binary (same inputs, same load on
# the machine), and the two predictions exports are compared byte for byte.
#   usage: bench/score.sh [WORKDIR] [MODELS] [RUNS]
#   env: MANYMODELS (the program), LAKE (an existing reference lake to copy instead of generate + ingest, e.g.
#        bench/reference.sh's WORKDIR/lake.h5), BASELINE
# Outputs kept in WORKDIR and reused when there: base.h5 (the lake before the week), registry.h5,
# production.h5, lake.h5 (with the week).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
MM=${MANYMODELS:-$here/build/manymodels}
JOB=$here/jobs/reference.ini
dir=${1:-/tmp/mm-score}
models=${2:-auto}
runs=${3:-5}
horizon=28
mkdir -p "$dir"
cd "$dir"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
echo "machine: $(hostname), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'); load: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ ! -f base.h5 ]; then
  if [ -n "${LAKE:-}" ]; then
    cp "$LAKE" base.h5
  else
    "$MM" generate --config "$JOB"
    "$MM" ingest --config "$JOB" --out base.h5
    rm -f panel.csv
  fi
fi
if [ ! -f production.h5 ]; then
  /usr/bin/time -f "train ($models): %e s wall" mpirun -n 2 "$MM" train --lake base.h5 --horizon "$horizon" \
    --models "$models" --registry registry.h5 --predictions train.h5 --quiet
  "$MM" promote --registry registry.h5 --production production.h5 --rule "n_obs>0" | tail -3
fi
if [ ! -f lake.h5 ]; then
  # The week after the lake's last day (the first forecast day of train's predictions): the generator gives the
  # same first 4,000 days for a longer panel, so the last 7 of 4,007 continue the series.
  "$MM" predictions export --predictions train.h5 --out train.csv
  next=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "time") c = i; next } { print $c; exit }' train.csv)
  rm train.csv
  "$MM" generate --config "$JOB" --out longer.csv --length 4007
  awk -F, -v next_day="$next" 'NR == 1 || $1 >= next_day' longer.csv > week.csv
  rm longer.csv
  cp base.h5 lake.tmp.h5
  "$MM" ingest --input week.csv --keys store,item --time date --target sales --covariates price,promo \
    --out lake.tmp.h5 --append
  mv lake.tmp.h5 lake.h5
fi
ls -l base.h5 production.h5 lake.h5

run() {  # label, binary, run number: one score run; appends "label wall cpu read0 read1 peak0 peak1" to runs.txt
  local label=$1 bin=$2 i=$3
  /usr/bin/time -o "time-$label.txt" -f "%e %U %S" mpirun -n 2 "$bin" score --lake lake.h5 --production production.h5 \
    --horizon "$horizon" --predictions "score-$label.h5" --summary-json "score-$label.json" --quiet > "score-$label.out"
  python3 - "$label" "$i" "time-$label.txt" "score-$label.json" <<'PY' | tee -a runs.txt
import json, sys
label, i, times, summary = sys.argv[1:]
wall, user, system = (float(x) for x in open(times).read().split())
ranks = json.load(open(summary))["ranks"]
read = " ".join(f"{r['read_seconds']:.2f}" for r in ranks)
peak = " ".join(f"{r['peak_rss_mib']:.0f}" for r in ranks)
print(f"{label} {wall:.2f} {user + system:.2f} {read} {peak}")
PY
}
: > runs.txt
echo "run: label, wall s, CPU s (both ranks), read s (rank 0, rank 1), peak MiB (rank 0, rank 1)"
for i in $(seq "$runs"); do
  run new "$MM" "$i"
  if [ -n "${BASELINE:-}" ]; then run baseline "$BASELINE" "$i"; fi
done
python3 - runs.txt <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, *v = line.split()
    rows.setdefault(label, []).append([float(x) for x in v])
med = {}
for label, r in rows.items():
    m = [statistics.median(c) for c in zip(*r)]
    med[label] = m
    print(f"{label}: median of {len(r)} runs: {m[0]:.2f} s wall, {m[1]:.2f} s CPU (both ranks), "
          f"read {m[2]:.2f} / {m[3]:.2f} s, peak {m[4]:.0f} / {m[5]:.0f} MiB (rank 0 / rank 1)")
if "baseline" in med:
    print(f"baseline / new: {med['baseline'][0] / med['new'][0]:.2f}x wall, {med['baseline'][1] / med['new'][1]:.2f}x CPU")
PY
if [ -n "${BASELINE:-}" ]; then
  "$MM" predictions export --predictions score-new.h5 --out score-new.csv
  "$MM" predictions export --predictions score-baseline.h5 --out score-baseline.csv
  cmp score-new.csv score-baseline.csv && echo "predictions exports identical ($(wc -l < score-new.csv) lines)"
fi
