#!/bin/bash
# What every rank of a manymodels job runs, under Slurm (slurm/*.sbatch, through srun) and under Azure Batch
# (jobs/azure-batch/train-task.json, through mpirun): one command line for both, so they cannot drift apart.
#   rank.sh SUBCOMMAND JOB.ini [options...]   runs   manymodels SUBCOMMAND --config JOB.ini [options...]
# in place of this shell (exec), so that srun's and mpirun's signals reach the program itself.
set -euo pipefail
if (($# < 2)); then echo "usage: rank.sh SUBCOMMAND JOB.ini [options...]" >&2; exit 2; fi
sub=$1 job=$2
shift 2

# The program: $MANYMODELS, else manymodels on PATH, else the build folder of the repository holding this script.
if [ -n "${MANYMODELS:-}" ]; then mm=$MANYMODELS
elif command -v manymodels >/dev/null 2>&1; then mm=$(command -v manymodels)
else mm="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/manymodels"; fi
[ -x "$mm" ] || { echo "rank.sh on $(hostname): manymodels not found at $mm (set MANYMODELS)" >&2; exit 2; }

# On shared file systems without locking (NFS, Lustre) HDF5's file locks fail.
export HDF5_USE_FILE_LOCKING=${HDF5_USE_FILE_LOCKING:-FALSE}
exec "$mm" "$sub" --config "$job" "$@"
