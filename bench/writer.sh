#!/usr/bin/env bash
# The output writer at a million models (issue 6): 1,000 stores x 1,000 items x 60 weeks, `--models naive`
# (the cheapest fit, so writing weighs most), 2 ranks. Prints train's per-rank read / fit / write seconds and
# peak memory, the median time of `registry show` for one key against the program's start-up alone, and
# the wall time and peak memory of the CSV export. With BASELINE=path/to/older/manymodels the same run is
# repeated with that binary (its registry show and export use its own outputs).
#   usage: bench/writer.sh [WORKDIR] [HORIZON]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
MM=${MANYMODELS:-$here/build/manymodels}
dir=${1:-/tmp/mm-writer}
horizon=${2:-8}
mkdir -p "$dir"
cd "$dir"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
echo "machine: $(hostname), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p')"
[ -f m1.csv ] || "$MM" generate --out m1.csv --stores 1000 --items 1000 --length 60 --freq W --seed 1
[ -f m1.h5 ] || "$MM" ingest --input m1.csv --keys store,item --time date --target sales \
  --covariates price,promo --out m1.h5

run() {  # label, binary
  local label=$1 bin=$2
  echo "== $label: $bin"
  /usr/bin/time -f "train: %e s wall, %M KiB peak RSS (largest process)" mpirun -n 2 "$bin" train --lake m1.h5 \
    --horizon "$horizon" --models naive --registry "reg-$label.h5" --predictions "pred-$label.h5" --quiet
  python3 - "$bin" "reg-$label.h5" <<'PY'
import statistics, subprocess, sys, time
bin, reg = sys.argv[1], sys.argv[2]
def median_ms(args, n=9):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)
start = median_ms([bin, "--version"])
show = median_ms([bin, "registry", "show", "--registry", reg, "--key", "store=777,item=555"], n=5)
print(f"registry show: {show:.0f} ms median (start-up alone {start:.0f} ms)")
PY
  /usr/bin/time -f "export: %e s wall, %M KiB peak RSS" "$bin" predictions export --predictions "pred-$label.h5" \
    --out "pred-$label.csv"
  ls -l "reg-$label.h5" "pred-$label.h5"
  rm -f "pred-$label.csv"
}
run new "$MM"
if [ -n "${BASELINE:-}" ]; then run baseline "$BASELINE"; fi
