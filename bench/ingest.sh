#!/usr/bin/env bash
# ingest in bounded memory on the reference panel (jobs/reference.ini: 100 stores x 100 items x 4,000 days, 40
# million rows, a 1.05 GB CSV, generated into DIR if it is not there): the default --memory 1G (rows past the
# budget sorted into runs on a scratch file beside the lake and merged) against --memory 64G (every row held: the
# in-memory path), RUNS rounds of one run each, alternating; wall time, CPU time and peak RSS of every run (GNU
# time -v), then the medians. The two lakes are compared dataset by dataset (h5diff). BASELINE=binary adds an
# older build's ingest to each round (its own in-memory path), its lake compared too.
# RANKS="1 2" instead ingests across ranks: `mpirun -n N` for each N listed (default --memory 1G a rank), each rank
# under its own GNU time -v, so the peak RSS of every rank is reported (and the CPU summed over the ranks); the
# lakes compared with the first N's.
#    usage: [RANKS="1 2"] bench/ingest.sh [DIR] [RUNS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
MM=${MANYMODELS:-$here/build/manymodels}
JOB=$here/jobs/reference.ini
dir=${1:-/tmp/mm-ingest}
runs=${2:-3}
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
command -v h5diff >/dev/null || { echo "needs h5diff (apt-get install hdf5-tools)" >&2; exit 1; }
mkdir -p "$dir"
cd "$dir"
[ -s panel.csv ] || "$MM" generate --config "$JOB" 2>/dev/null
echo "machine: $(hostname), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "program: $("$MM" --version)${BASELINE:+; baseline: $("$BASELINE" --version)}"

variants=(spilled held)
[ -n "${BASELINE:-}" ] && variants+=(baseline)
if [ -n "${RANKS:-}" ]; then
  variants=()
  for n in $RANKS; do variants+=("ranks$n"); done
fi
# Runs the rest of the command line under GNU time -v, its report in rank-time.RANK.txt.
per_rank='exec /usr/bin/time -v -o "rank-time.${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-0}}.txt" "$@"'
seconds() { sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$1" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }
: > runs.tsv
for ((r = 1; r <= runs; r++)); do
  for v in "${variants[@]}"; do
    case $v in
      spilled) cmd=("$MM" ingest --config "$JOB" --out lake-spilled.h5 --memory 1G) ;;
      held) cmd=("$MM" ingest --config "$JOB" --out lake-held.h5 --memory 64G) ;;
      baseline) cmd=("$BASELINE" ingest --config "$JOB" --out lake-baseline.h5) ;;
      ranks*) cmd=(mpirun --allow-run-as-root --oversubscribe -n "${v#ranks}" sh -c "$per_rank" sh
                   "$MM" ingest --config "$JOB" --out "lake-$v.h5") ;;
    esac
    rm -f rank-time.*.txt
    /usr/bin/time -v -o time.txt "${cmd[@]}" 2> ingest.err
    wall=$(seconds time.txt)
    user=$(sed -n 's/.*User time (seconds): //p' time.txt)
    sys=$(sed -n 's/.*System time (seconds): //p' time.txt)
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt)
    if [ "${v#ranks}" != "$v" ]; then  # the ranks' own figures: CPU summed, peak RSS of each (rank 0 first)
      user=0 sys=0 rss=""
      for ((k = 0; k < ${v#ranks}; k++)); do
        user=$(awk -v a="$user" -v b="$(sed -n 's/.*User time (seconds): //p' rank-time.$k.txt)" 'BEGIN { print a + b }')
        sys=$(awk -v a="$sys" -v b="$(sed -n 's/.*System time (seconds): //p' rank-time.$k.txt)" 'BEGIN { print a + b }')
        rss=${rss:+$rss,}$(sed -n 's/.*Maximum resident set size (kbytes): //p' rank-time.$k.txt)
      done
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$v" "$r" "$wall" "$user" "$sys" "$rss" | tee -a runs.tsv
    grep -h "sorted run" ingest.err || true
  done
done

first=${variants[0]}
for v in "${variants[@]}"; do
  [ "$v" = "$first" ] && continue
  for ds in /target /offsets /start /keys/store /keys/item /covariates/price /covariates/promo; do
    h5diff "lake-$first.h5" "lake-$v.h5" "$ds" "$ds" >/dev/null || { echo "lake-$first.h5 and lake-$v.h5 differ in $ds" >&2; exit 1; }
  done
  echo "lake-$first.h5 and lake-$v.h5: every dataset the same (h5diff)"
done

python3 - runs.tsv <<'EOF'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines()]
print(f"\n{'variant':10} {'runs':>4} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}   (medians; wall range; peak of each rank)")
for v in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == v]
    wall = [float(r[2]) for r in mine]
    cpu = [float(r[3]) + float(r[4]) for r in mine]
    per_rank = [[int(x) / 1024 for x in r[5].split(",")] for r in mine]
    ranks = [statistics.median(p[k] for p in per_rank) for k in range(len(per_rank[0]))]
    print(f"{v:10} {len(mine):>4} {statistics.median(wall):8.1f} {statistics.median(cpu):8.1f} "
          f"{max(ranks):9.0f}   ({min(wall):.1f}-{max(wall):.1f})" +
          (f"  ranks: {' / '.join(f'{x:.0f}' for x in ranks)} MiB" if len(ranks) > 1 else ""))
EOF
