// How many worker threads a rank runs (DESIGN.md §4-5): --threads, else SLURM_CPUS_PER_TASK, else
// OMP_NUM_THREADS, else the CPUs in the process's affinity mask, shared among the node's ranks only when the
// mask is the whole node. More threads than CPUs in the mask works but is reported as a warning.
#pragma once

#include <string>

namespace mm {

struct ThreadChoice {
  int given = 0;          // what was asked for (0 when nothing was)
  int used = 1;           // what runs
  int cpus_in_mask = 1;   // CPUs this process may run on
  std::string source;     // "--threads", "SLURM_CPUS_PER_TASK", "OMP_NUM_THREADS", "affinity"
  std::string warning;    // non-empty when used > cpus_in_mask
};

// `flag` is --threads (0 = not given). Throws std::invalid_argument on a malformed environment value.
ThreadChoice ResolveThreads(int flag, int node_local_ranks);

int CpusInAffinityMask();

}  // namespace mm
