#!/bin/bash
# Submits a job file's whole chain to Slurm: ingest -> train -> promote -> score, each stage a job of its own
# (slurm/STAGE.sbatch) that starts only when the one before it succeeded (--dependency=afterok). Prints one line
# per job submitted, "STAGE JOBID", on stdout.
#   slurm/pipeline.sh jobs/demo.ini
#   slurm/pipeline.sh --train="--nodes=4 --ntasks-per-node=8 --cpus-per-task=2" job.ini
#   slurm/pipeline.sh --daily job.ini           (and again every day, from tomorrow 00:00)
#   slurm/pipeline.sh --daily=06:00 job.ini     (and again every day at 06:00)
# --STAGE="OPTIONS" (ingest, train, promote, score): extra sbatch options for that stage's job (geometry, time
# limit, ...); options for every job come from sbatch's own environment (SBATCH_ACCOUNT, SBATCH_PARTITION, ...).
# When a stage fails, the stages after it are cancelled (--kill-on-invalid-dep=yes) rather than left pending.
# --daily[=WHEN] also submits a one-task job "next" that waits for this chain to end (whatever its outcome,
# --dependency=afterany on score) and for WHEN (sbatch --begin: tomorrow, the default, is 00:00; HH:MM is the
# next time the clock shows it; or a date, YYYY-MM-DDTHH:MM), then runs this script again with the same
# arguments: that day's chain and the next "next". A daily job usually appends the day's rows to the lake
# (append = true in the job file's [ingest] section, once the lake exists). Stop the cycle with
# `scancel --name=manymodels-next`.
# Jobs run in the current folder, where their logs go (manymodels-STAGE-JOBID.out); the job file's relative
# paths are taken from there.
set -euo pipefail

usage() {
  sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
  exit "$1"
}

# The folder of the stage scripts: this script's own, or, when Slurm runs it as the "next" job (from a copy in
# its spool), the one it was submitted from (scontrol's Command is the submitted path, then the arguments).
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ ! -f "$HERE/train.sbatch" ] && [ -n "${SLURM_JOB_ID:-}" ]; then
  command=$(scontrol show job "$SLURM_JOB_ID" | sed -n 's/^ *Command=//p')
  command=${command%%$'\n'*}
  HERE=$(cd "$(dirname "${command% "$*"}")" && pwd)
fi

STAGES=(ingest train promote score)
declare -A extra=()
args=()   # the options as given, for the next day's run
daily=
while (($#)); do
  case $1 in
    --daily) daily=tomorrow ;;
    --daily=*) daily=${1#--daily=}; [ -n "$daily" ] || { echo "pipeline.sh: --daily= needs a time" >&2; exit 2; } ;;
    --ingest=* | --train=* | --promote=* | --score=*) stage=${1%%=*}; extra[${stage#--}]=${1#*=} ;;
    -h | --help) usage 0 ;;
    -*) echo "pipeline.sh: unknown option '$1'" >&2; usage 2 ;;
    *) break ;;
  esac
  [[ $1 == --daily* ]] || args+=("$1")
  shift
done
(($# == 1)) || usage 2
JOB=$1
[ -f "$JOB" ] || { echo "pipeline.sh: no job file '$JOB'" >&2; exit 2; }
for stage in "${STAGES[@]}"; do
  [ -f "$HERE/$stage.sbatch" ] || { echo "pipeline.sh: $stage.sbatch not found in '$HERE'" >&2; exit 2; }
done

# A chain is submitted whole or not at all: its first job is held until the others are in, and a submission that
# fails cancels the jobs this run submitted before it.
submitted=()
submit() {
  local out
  if ! out=$(sbatch --parsable "$@"); then
    echo "pipeline.sh: sbatch $* failed" >&2
    if ((${#submitted[@]})); then
      echo "pipeline.sh: cancelling the jobs already submitted: ${submitted[*]}" >&2
      scancel "${submitted[@]}" || true
    fi
    exit 1
  fi
  id=${out%%;*}   # --parsable prints JOBID or JOBID;CLUSTER
  submitted+=("$id")
}

lines=()
previous=
for stage in "${STAGES[@]}"; do
  options=(--hold)
  [ -z "$previous" ] || options=(--dependency="afterok:$previous" --kill-on-invalid-dep=yes)
  read -ra more <<<"${extra[$stage]:-}"
  submit "${options[@]}" "${more[@]}" "$HERE/$stage.sbatch" "$JOB"
  lines+=("$stage $id")
  previous=$id
done
if [ -n "$daily" ]; then
  submit --job-name=manymodels-next --output=manymodels-next-%j.out --ntasks=1 --begin="$daily" \
    --dependency="afterany:$previous" "$HERE/pipeline.sh" --daily="$daily" "${args[@]}" "$JOB"
  lines+=("next $id")
fi
scontrol release "${submitted[0]}" || { scancel "${submitted[@]}"; exit 1; }
printf '%s\n' "${lines[@]}"
