#include "manymodels/parallel/threads.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace mm {

int CpusInAffinityMask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  return std::max(1, CPU_COUNT(&set));
}

namespace {
int FromEnv(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  int n = 0;
  auto [p, ec] = std::from_chars(v, v + std::strlen(v), n);
  if (ec != std::errc() || *p != '\0' || n < 1)
    throw std::invalid_argument(std::string(name) + "='" + v + "' is not a positive whole number");
  return n;
}
}  // namespace

ThreadChoice ResolveThreads(int flag, int node_local_ranks) {
  ThreadChoice c;
  c.cpus_in_mask = CpusInAffinityMask();
  if (flag > 0) {
    c.given = flag, c.source = "--threads";
  } else if (int s = FromEnv("SLURM_CPUS_PER_TASK")) {
    c.given = s, c.source = "SLURM_CPUS_PER_TASK";
  } else if (int o = FromEnv("OMP_NUM_THREADS")) {
    c.given = o, c.source = "OMP_NUM_THREADS";
  }
  if (c.given > 0) {
    c.used = c.given;
  } else {
    c.source = "affinity";
    const long online = sysconf(_SC_NPROCESSORS_ONLN);
    const bool whole_node = online > 0 && c.cpus_in_mask >= online;
    c.used = whole_node ? std::max(1, c.cpus_in_mask / std::max(1, node_local_ranks)) : c.cpus_in_mask;
  }
  if (c.used > c.cpus_in_mask)
    c.warning = std::to_string(c.used) + " threads on " + std::to_string(c.cpus_in_mask) +
                " CPU(s) in this rank's affinity mask: oversubscribed (give each rank more CPUs: mpirun "
                "--map-by slot:PE=" + std::to_string(c.used) + " --bind-to core, or srun --cpus-per-task=" +
                std::to_string(c.used) + ")";
  return c;
}

}  // namespace mm
