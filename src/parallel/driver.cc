#include "manymodels/parallel/driver.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

#include "manymodels/parallel/threads.h"

namespace mm {

double PeakRssMb() {
  // The peak of this program's own memory: VmHWM. getrusage's ru_maxrss is kept across execve, so a process
  // started from a large parent (a Python driver holding a gigabyte) would report the parent's size at fork.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;  // kB
  rusage u{};  // no /proc: the best there is
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<uint8_t> EncodePlan(const DriverPlan& p) {
  ByteWriter w;
  w.PutString(p.error);
  w.PutString(p.run_id);
  for (const auto* ranges : {&p.shards, &p.todo}) {
    w.PutU64(ranges->size());
    for (const auto& s : *ranges) w.PutU64(s.begin), w.PutU64(s.end);
  }
  w.PutU64(p.columns.size());
  for (const auto& v : p.columns) {
    w.PutU64(v.size());
    for (int64_t x : v) w.PutI64(x);
  }
  return w.Take();
}

DriverPlan DecodePlan(const std::vector<uint8_t>& bytes) {
  ByteReader r(bytes);
  DriverPlan p;
  p.error = r.GetString();
  p.run_id = r.GetString();
  for (auto* ranges : {&p.shards, &p.todo}) {
    ranges->resize(r.GetU64());
    for (auto& s : *ranges) s.begin = r.GetU64(), s.end = r.GetU64();
  }
  p.columns.resize(r.GetU64());
  for (auto& v : p.columns) {
    v.resize(r.GetU64());
    for (auto& x : v) x = r.GetI64();
  }
  return p;
}

DriverPlan BroadcastPlan(Communicator& comm, const std::function<void(DriverPlan*)>& make) {
  DriverPlan plan;
  std::vector<uint8_t> bytes;
  if (comm.rank() == 0) {
    try {
      make(&plan);
    } catch (const std::exception& e) {
      plan = DriverPlan{};
      plan.error = e.what();
    }
    bytes = EncodePlan(plan);
  }
  comm.Broadcast(&bytes);
  if (comm.rank() != 0) plan = DecodePlan(bytes);
  if (!plan.error.empty()) throw std::runtime_error(plan.error);
  return plan;
}

void PutReport(ByteWriter* w, const RankReport& r) {
  w->PutI64(r.rank);
  w->PutString(r.host);
  w->PutI64(r.threads_given);
  w->PutI64(r.threads_used);
  w->PutI64(r.cpus_in_mask);
  w->PutString(r.thread_source);
  w->PutString(r.thread_warning);
  w->PutI64(r.groups);
  w->PutF64(r.busy_seconds);
  w->PutF64(r.read_seconds);
  w->PutF64(r.fit_seconds);
  w->PutF64(r.gather_seconds);
  w->PutF64(r.journal_seconds);
  w->PutF64(r.journal_sync_seconds);
  w->PutF64(r.write_seconds);
  w->PutF64(r.write_wait_seconds);
  w->PutF64(r.peak_rss_mb);
  w->PutU8(r.stopped ? 1 : 0);
}

RankReport GetReport(ByteReader* rd) {
  RankReport r;
  r.rank = static_cast<int>(rd->GetI64());
  r.host = rd->GetString();
  r.threads_given = static_cast<int>(rd->GetI64());
  r.threads_used = static_cast<int>(rd->GetI64());
  r.cpus_in_mask = static_cast<int>(rd->GetI64());
  r.thread_source = rd->GetString();
  r.thread_warning = rd->GetString();
  r.groups = rd->GetI64();
  r.busy_seconds = rd->GetF64();
  r.read_seconds = rd->GetF64();
  r.fit_seconds = rd->GetF64();
  r.gather_seconds = rd->GetF64();
  r.journal_seconds = rd->GetF64();
  r.journal_sync_seconds = rd->GetF64();
  r.write_seconds = rd->GetF64();
  r.write_wait_seconds = rd->GetF64();
  r.peak_rss_mb = rd->GetF64();
  r.stopped = rd->GetU8() != 0;
  return r;
}

RankReport StartReport(Communicator& comm, int threads_flag) {
  const ThreadChoice threads = ResolveThreads(threads_flag, comm.node_local_size());
  RankReport me;
  me.rank = comm.rank();
  me.host = comm.host();
  me.threads_given = threads.given;
  me.threads_used = threads.used;
  me.cpus_in_mask = threads.cpus_in_mask;
  me.thread_source = threads.source;
  me.thread_warning = threads.warning;
  return me;
}

std::vector<std::vector<std::vector<double>>> ReadSeriesRuns(const LakeReader& lake,
                                                             const std::vector<int64_t>& wanted,
                                                             const std::vector<size_t>& covariates,
                                                             const std::vector<int64_t>& from) {
  const LakeIndex& ix = lake.index();
  if (!from.empty() && from.size() != wanted.size())
    throw std::logic_error("ReadSeriesRuns: one period per series");
  std::vector<h5::Range> ranges;
  std::vector<size_t> lengths(wanted.size());
  for (size_t k = 0; k < wanted.size(); ++k) {
    if (k > 0 && wanted[k] <= wanted[k - 1]) throw std::logic_error("ReadSeriesRuns: series not ascending");
    const auto s = static_cast<size_t>(wanted[k]);
    const int64_t skip = from.empty() ? 0 : std::clamp<int64_t>(from[k] - ix.start[s], 0, ix.length(s));
    const auto offset = static_cast<size_t>(ix.offsets[s] + skip);
    lengths[k] = static_cast<size_t>(ix.length(s) - skip);
    if (!ranges.empty() && ranges.back().offset + ranges.back().count == offset)
      ranges.back().count += lengths[k];
    else if (lengths[k] > 0)
      ranges.push_back({offset, lengths[k]});
  }
  std::vector<std::vector<std::vector<double>>> columns(1 + covariates.size(),
                                                        std::vector<std::vector<double>>(wanted.size()));
  std::lock_guard<std::mutex> hdf5(h5::Mutex());  // rank 0's writer thread is in HDF5 too
  for (size_t col = 0; col < columns.size(); ++col) {
    const std::vector<double> values =
        col == 0 ? lake.ReadTarget(ranges) : lake.ReadCovariate(covariates[col - 1], ranges);
    auto at = values.begin();
    for (size_t k = 0; k < wanted.size(); ++k) {
      columns[col][k].assign(at, at + static_cast<std::ptrdiff_t>(lengths[k]));
      at += static_cast<std::ptrdiff_t>(lengths[k]);
    }
  }
  return columns;
}

}  // namespace mm
