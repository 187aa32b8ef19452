#!/usr/bin/env bash
# The reference workload of the Azure many-models architecture, on this machine: 100 stores x 100 items x
# 4,000 days (40 million rows, 10,000 series), as jobs/reference.ini defines it (also run on Azure Batch, see
# jobs/azure-batch/). Generates the panel, ingests it, trains with RANKS MPI ranks, exports the predictions, and
# prints wall time and peak memory of each step (GNU time) plus the per-rank figures train reports.
#    usage: bench/reference.sh [WORKDIR] [RANKS] [MODELS] [HORIZON]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
MM=${MANYMODELS:-$here/build/manymodels}
JOB=$here/jobs/reference.ini   # panel.csv, lake.h5, registry.h5, predictions.h5 in WORKDIR
dir=${1:-/tmp/mm-reference}
ranks=${2:-2}
models=${3:-auto}
horizon=${4:-28}
mkdir -p "$dir"
cd "$dir"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
measure() {  # name, command...
  local name=$1; shift
  /usr/bin/time -f "$name: %e s wall, %M KiB peak RSS (largest process)" "$@" 2> >(tee "$name.err" >&2)
}
echo "machine: $(hostname), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p')"
measure generate "$MM" generate --config "$JOB"
measure ingest "$MM" ingest --config "$JOB"
measure train mpirun -n "$ranks" --oversubscribe "$MM" train --config "$JOB" --horizon "$horizon" \
  --models "$models" --quiet
measure export "$MM" predictions export --predictions predictions.h5 --out predictions.csv
ls -l panel.csv lake.h5 registry.h5 predictions.h5 predictions.csv
