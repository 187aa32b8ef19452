#!/usr/bin/env bash
# serve at 100,000 models (issue 7): a production registry of 100,000 ETS models (1,000 stores x 100 items x 104
# weeks), `manymodels serve` on loopback, load from Debian's wrk (client and server on the same machine):
#   1. first load: every request a key not asked before (all cache misses), with --cache-models 10000; resident
#      memory of the server sampled while all 100,000 keys are asked;
#   2. warm: 1,000 keys already in the cache, random order;
#   3. promotion under load: the warm load again while a new training run is promoted into the production
#      registry (the server reloads it); wrk's non-2xx and socket errors must be 0.
# Prints wrk's latency percentiles and requests/s for each, the server's RSS samples, and /metrics totals.
#   usage: bench/serve.sh [WORKDIR]    (env: MANYMODELS, THREADS=wrk threads (2), CONNECTIONS (16), SECONDS_WARM (15))
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
MM=${MANYMODELS:-$here/build/manymodels}
dir=${1:-/tmp/mm-serve}
threads=${THREADS:-2}
conns=${CONNECTIONS:-16}
warm_s=${SECONDS_WARM:-15}
mkdir -p "$dir"
cd "$dir"
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 1; }
echo "machine: $(hostname), $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p')"
[ -f panel.csv ] || "$MM" generate --out panel.csv --stores 1000 --items 100 --length 104 --freq W --seed 3
[ -f lake.h5 ] || "$MM" ingest --input panel.csv --keys store,item --time date --target sales --out lake.h5
if [ ! -f reg.h5 ]; then
  /usr/bin/time -f "train: %e s" mpirun -n 2 "$MM" train --lake lake.h5 --horizon 8 --models ets --registry reg.h5 \
    --predictions pred.h5 --quiet
fi
# A fresh production registry of the ETS models (step 3 below promotes naive ones over it).
rm -f prod.h5
"$MM" promote --registry reg.h5 --production prod.h5 --rule "n_obs>0" >/dev/null
ls -l prod.h5 lake.h5

cat > keys.lua <<'LUA'
-- KEYS distinct keys store=1..1000 x item=1..100; MODE=seq: each thread walks its own share in order (every
-- request a key not asked before), MODE=rand: random keys among the first KEYS.
local keys = tonumber(os.getenv("KEYS") or "100000")
local mode = os.getenv("MODE") or "rand"
local counter = 0
local threads = {}  -- (in the setup state) the threads made so far; each gets globals id and nthreads
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
  for _, t in ipairs(threads) do t:set("nthreads", #threads) end
end
function init(args)
  id, nthreads = id or 0, nthreads or 1
  math.randomseed(12345 + id)
end
function request()
  local k
  if mode == "seq" then
    k = (id + counter * nthreads) % keys
    counter = counter + 1
  else
    k = math.random(0, keys - 1)
  end
  local store = math.floor(k / 100) + 1
  local item = k % 100 + 1
  return wrk.format("GET", "/v1/forecast?store=" .. store .. "&item=" .. item .. "&h=8")
end
LUA

"$MM" serve --production prod.h5 --lake lake.h5 --port 0 --cache-models 10000 --reload-every 0.5 > url.txt 2> serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s url.txt ] && break; sleep 0.1; done
url=$(cat url.txt)
echo "server $url, pid $server"
rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$server/status; }
metric() { curl -s "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
echo "RSS at start: $(rss) MiB"

echo "== 1. first load: 100,000 distinct keys in order, --cache-models 10000"
( while kill -0 $server 2>/dev/null; do echo "$(date +%s.%N) $(rss) $(metric manymodels_model_loads_total)"; sleep 1; done ) > rss.txt &
sampler=$!
KEYS=100000 MODE=seq wrk -t "$threads" -c "$conns" -d 600s --latency -s keys.lua "$url" > first.txt &
wrkpid=$!
while kill -0 $wrkpid 2>/dev/null; do
  loads=$(metric manymodels_model_loads_total)
  if [ "${loads:-0}" -ge 100000 ]; then kill -INT $wrkpid; break; fi
  sleep 0.5
done
wait $wrkpid || true
kill $sampler
cat first.txt
echo "RSS (MiB) against models loaded, sampled each second:"
awk 'NR % 10 == 1 {print "  loads " $3 ": " $2 " MiB"}' rss.txt
echo "peak RSS during first load: $(awk 'max < $2 {max = $2} END {print max}' rss.txt) MiB"
echo "cache: models_loaded=$(metric manymodels_models_loaded) evictions=$(metric manymodels_cache_evictions_total)"

echo "== 2. warm: 1,000 keys (loaded first), random order, ${warm_s} s"
KEYS=1000 MODE=seq wrk -t 1 -c 1 -d 3s -s keys.lua "$url" >/dev/null
KEYS=1000 MODE=rand wrk -t "$threads" -c "$conns" -d "${warm_s}s" --latency -s keys.lua "$url" | tee warm.txt
echo "RSS after warm: $(rss) MiB"

echo "== 3. a promotion replaces the production registry under the warm load"
KEYS=1000 MODE=rand wrk -t "$threads" -c "$conns" -d 30s --latency -s keys.lua "$url" > promote.txt &
wrkpid=$!
sleep 3
gen0=$(metric manymodels_registry_generation)
"$MM" train --lake lake.h5 --horizon 8 --models naive --registry reg2.h5 --predictions pred2.h5 --quiet --threads 1
"$MM" promote --registry reg2.h5 --production prod.h5 --rule "n_obs>0" >/dev/null
wait $wrkpid
cat promote.txt
echo "generation $gen0 -> $(metric manymodels_registry_generation); non-2xx and socket errors above must be absent"
curl -s "$url/metrics" | grep -E '^manymodels_requests_total'
kill -TERM $server
wait $server || true
tail -3 serve.log
