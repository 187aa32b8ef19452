// `manymodels bench`: train once per layout (ranks x threads), each run a child of this program launched by
// mpirun or srun, and the figures of their run summaries into bench.csv and bench.html (io/bench.h). bench
// itself never starts MPI: it only launches, times and reads.
#include "manymodels/io/bench.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>

#include "commands.h"
#include "manymodels/io/files.h"
#include "manymodels/io/generate.h"
#include "manymodels/io/ingest.h"
#include "manymodels/parallel/threads.h"

extern char** environ;

namespace mm::app {

namespace {

// The launcher bench is waiting for, for the stop-signal handler.
std::atomic<pid_t> running_child{0};
static_assert(std::atomic<pid_t>::is_always_lock_free, "read from a signal handler");

template <typename T>
T Get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

std::string SelfPath() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0)
    throw std::runtime_error(std::string("cannot find this program's path (/proc/self/exe): ") +
                             std::strerror(errno));
  return std::string(buf, static_cast<size_t>(n));
}

// STORES,ITEMS,LENGTH of --generate.
std::optional<GenerateOptions> GenerateOption(const po::variables_map& vm) {
  if (!vm.count("generate")) return std::nullopt;
  const std::string text = Get<std::string>(vm, "generate");
  const std::vector<std::string> parts = SplitList(text);
  GenerateOptions o;
  int64_t* fields[] = {&o.stores, &o.items, &o.length};
  bool ok = parts.size() == 3;
  for (size_t i = 0; ok && i < 3; ++i) {
    ok = !parts[i].empty() && parts[i].size() < 10 &&
         parts[i].find_first_not_of("0123456789") == std::string::npos;
    if (ok) *fields[i] = std::stoll(parts[i]);
    ok = ok && *fields[i] >= 1;
  }
  if (!ok)
    throw po::error("--generate: '" + text +
                    "' is not STORES,ITEMS,LENGTH (three whole numbers, e.g. 10,10,730)");
  if (static_cast<double>(o.stores) * static_cast<double>(o.items) * static_cast<double>(o.length) > 1e10)
    throw po::error("--generate: '" + text + "' is more than 10 billion rows");
  return o;
}

// The launcher's words before the program, for one layout.
std::vector<std::string> LauncherWords(const po::variables_map& vm, const BenchLayout& l) {
  std::string launcher = Get<std::string>(vm, "launcher");
  if (launcher == "auto") launcher = std::getenv("SLURM_JOB_ID") ? "srun" : "mpirun";
  const std::string r = std::to_string(l.ranks), t = std::to_string(l.threads);
  std::vector<std::string> w;
  if (launcher == "srun") {
    w = {"srun", "--mpi=pmix", "--kill-on-bad-exit=1", "-n", r, "--cpus-per-task=" + t};
  } else {
    // Each rank bound to its own T cores when the layout fits in the CPUs bench may use; otherwise (more
    // ranks x threads than CPUs) nothing is bound and the ranks share the CPUs as the kernel schedules them.
    w = {"mpirun", "-n", r};
    if (l.cores() <= CpusInAffinityMask())
      w.insert(w.end(), {"--map-by", "slot:PE=" + t, "--bind-to", "core"});
    else
      w.insert(w.end(), {"--oversubscribe", "--bind-to", "none"});
  }
  if (vm.count("launcher-args"))
    for (const auto& word : SplitList(Get<std::string>(vm, "launcher-args"))) w.push_back(word);
  return w;
}

std::string Join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// Runs `argv` with stdout and stderr into `log` (which starts with the command line); returns its wait
// status.
int RunLogged(const std::vector<std::string>& argv, const std::string& log) {
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(log + ": " + std::strerror(errno));
  const std::string head = "$ " + Join(argv) + "\n";
  if (::write(fd, head.data(), head.size()) != static_cast<ssize_t>(head.size())) {
    const int e = errno;
    ::close(fd);
    throw std::runtime_error(log + ": " + std::strerror(e));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fd, 1);
  posix_spawn_file_actions_adddup2(&actions, fd, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  running_child = pid;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    running_child = 0;
    throw std::runtime_error("waiting for " + argv[0] + ": " + std::strerror(errno));
  }
  running_child = 0;
  return status;
}

// The last `n` lines of a file, for an error message.
std::string Tail(const std::string& path, size_t n) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += "  | " + l + "\n";
  return out;
}

// The run's figures from train's --summary-json.
BenchRun ReadRunSummary(const std::string& path, const BenchLayout& layout) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": the run wrote no summary");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
    BenchRun r;
    r.layout = layout;
    r.run_s = j.at("seconds").get<double>();
    r.series = j.at("models").get<int64_t>();
    r.rows = j.at("lake_rows").get<int64_t>();
    for (const auto& k : j.at("ranks")) {
      BenchRank b;
      b.host = k.at("host").get<std::string>();
      b.busy_s = k.at("fit_seconds").get<double>();
      b.read_s = k.at("read_seconds").get<double>();
      b.write_s = k.at("write_seconds").get<double>();
      b.write_wait_s = k.at("write_wait_seconds").get<double>();
      b.gather_s = k.at("gather_seconds").get<double>();
      b.peak_mib = k.at("peak_rss_mib").get<double>();
      r.ranks.push_back(b);
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not a train summary: " + e.what());
  }
}

// Where two text files first differ ("line N: ... | ..."); empty when they are the same bytes.
std::string FirstDifference(const std::string& a, const std::string& b) {
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa || !fb) throw std::runtime_error("cannot read " + (fa ? b : a));
  std::string la, lb;
  for (int64_t line = 1;; ++line) {
    const bool ga = static_cast<bool>(std::getline(fa, la)), gb = static_cast<bool>(std::getline(fb, lb));
    if (!ga && !gb) return "";
    if (ga != gb || la != lb || fa.eof() != fb.eof()) {
      auto cut = [](const std::string& s, bool got) {
        return got ? (s.size() > 160 ? s.substr(0, 160) + "..." : s) : "(end)";
      };
      return "line " + std::to_string(line) + ": '" + cut(la, ga) + "' against '" + cut(lb, gb) + "'";
    }
  }
}

// The layout's exports: predictions.csv, and registry.csv (the listing with its run-specific version
// emptied).
void WriteExports(const std::string& dir) {
  ExportPredictions(dir + "/predictions.h5", /*json=*/false, dir + "/predictions.csv");
  RegistryTable t = ReadRegistry(dir + "/registry.h5", /*load_params=*/false);
  for (auto& r : t.rows) r.version.clear();
  TextOutput out(dir + "/registry.csv");
  out.Write(RegistryListing(t, "csv"));
  out.Finish();
}

void MakeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    throw std::runtime_error(path + ": " + std::strerror(errno));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    throw UsageError(path + ": exists and is not a folder");
}

// The generated panel, ingested into DIR/lake.h5 (the CSV removed once ingested).
std::string GenerateLake(GenerateOptions g, const std::string& dir) {
  g.out = dir + "/panel.csv";
  const auto t0 = std::chrono::steady_clock::now();
  Generate(g);
  IngestOptions o;
  o.input = g.out;
  o.keys = {"store", "item"};
  o.time = "date";
  o.target = "sales";
  o.covariates = {"price", "promo"};
  o.out = dir + "/lake.h5";
  const std::string options = "generate=" + std::to_string(g.stores) + "," + std::to_string(g.items) + "," +
                              std::to_string(g.length) + "\nseed=" + std::to_string(g.seed) + "\n";
  const IngestSummary s = Ingest(o, Provenance{"bench --generate", options, "", CommandLine(), {}});
  std::remove(g.out.c_str());
  std::fprintf(stderr, "bench: generated %lld series x %lld days (%lld rows) into %s (%.1f s)\n",
               static_cast<long long>(s.series), static_cast<long long>(g.length),
               static_cast<long long>(s.rows), o.out.c_str(),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return o.out;
}

}  // namespace

void CheckBenchOptions(const po::variables_map& vm) { GenerateOption(vm); }

void StopBenchChild(int sig) {
  const pid_t pid = running_child.load();
  if (pid > 0) ::kill(pid, sig);
}

int RunBench(const po::variables_map& vm) {
  const std::vector<BenchLayout> layouts = ParseLayouts(Get<std::string>(vm, "layouts"));
  const std::optional<GenerateOptions> generate = GenerateOption(vm);
  std::optional<double> price;
  if (vm.count("price")) price = Get<double>(vm, "price");
  std::vector<SkuPrice> skus;
  if (vm.count("prices")) skus = ReadPrices(Get<std::string>(vm, "prices"));
  std::string lake = vm.count("lake") ? Get<std::string>(vm, "lake") : "";
  if (!generate && ::access(lake.c_str(), R_OK) != 0)
    throw InputError(lake + ": " + std::strerror(errno) + " (the lake to train on)");
  const std::string exe = SelfPath();
  const std::string dir = Get<std::string>(vm, "out");
  const int repeat = Get<int>(vm, "repeat");

  // Nothing is written before here: the checks above are all the input's.
  MakeDirectory(dir);
  if (generate) lake = GenerateLake(*generate, dir);
  std::vector<BenchRun> runs;
  std::string first_dir;
  std::vector<std::string> differ;
  for (const BenchLayout& layout : layouts) {
    const std::string ldir = dir + "/layout-" + layout.Name();
    MakeDirectory(ldir);
    const std::vector<std::string> launch = LauncherWords(vm, layout);
    std::vector<BenchRun> tries;
    for (int k = 1; k <= repeat; ++k) {
      const std::string json = ldir + "/run-" + std::to_string(k) + ".json";
      const std::string log = ldir + "/run-" + std::to_string(k) + ".log";
      std::vector<std::string> argv = launch;
      argv.insert(argv.end(), {exe, "train"});
      if (vm.count("config")) argv.insert(argv.end(), {"--config", Get<std::string>(vm, "config")});
      argv.insert(argv.end(), {"--lake", lake, "--horizon", std::to_string(Get<int>(vm, "horizon"))});
      if (vm.count("models")) argv.insert(argv.end(), {"--models", Get<std::string>(vm, "models")});
      if (vm.count("schedule")) argv.insert(argv.end(), {"--schedule", Get<std::string>(vm, "schedule")});
      argv.insert(argv.end(),
                  {"--registry", ldir + "/registry.h5", "--predictions", ldir + "/predictions.h5",
                   "--summary-json", json, "--threads", std::to_string(layout.threads), "--quiet"});
      std::fprintf(stderr, "bench: layout %s (run %d of %d): %s\n", layout.Name().c_str(), k, repeat,
                   Join(launch).c_str());
      std::remove(json.c_str());
      const auto t0 = std::chrono::steady_clock::now();
      const int status = RunLogged(argv, log);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw std::runtime_error("layout " + layout.Name() + ": " + Join(launch) + " ... " +
                                 (WIFEXITED(status)
                                      ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                      : "was killed by signal " + std::to_string(WTERMSIG(status))) +
                                 "; the end of " + log + ":\n" + Tail(log, 12));
      BenchRun r = ReadRunSummary(json, layout);
      if (static_cast<int>(r.ranks.size()) != layout.ranks)
        throw std::runtime_error("layout " + layout.Name() + ": the run had " +
                                 std::to_string(r.ranks.size()) + " rank(s), not " +
                                 std::to_string(layout.ranks) + " (" + json + ")");
      r.wall_s = wall;
      r.launch = Join(launch);
      r.run = k;
      tries.push_back(std::move(r));
    }
    // The run with the median wall time (the lower middle one of an even number).
    std::vector<size_t> order(tries.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return tries[a].wall_s < tries[b].wall_s; });
    BenchRun chosen = tries[order[(order.size() - 1) / 2]];
    chosen.repeats = repeat;
    WriteExports(ldir);
    if (first_dir.empty()) {
      first_dir = ldir;
    } else {
      for (const char* file : {"/predictions.csv", "/registry.csv"}) {
        const std::string d = FirstDifference(first_dir + file, ldir + file);
        if (d.empty()) continue;
        chosen.identical = false;
        differ.push_back(ldir + file + " differs from " + first_dir + file + " at " + d);
      }
    }
    std::fprintf(stderr, "bench: layout %s: %.2f s, %s\n", layout.Name().c_str(), chosen.wall_s,
                 ldir == first_dir  ? "the exports the others are compared with"
                 : chosen.identical ? "exports identical"
                                    : "EXPORTS DIFFER");
    runs.push_back(std::move(chosen));
  }

  const std::vector<BenchRow> rows = MakeBenchRows(runs, ThisMachine(), price, skus);
  {
    TextOutput csv(dir + "/bench.csv");
    csv.Write(BenchCsv(rows));
    csv.Finish();
    TextOutput page(dir + "/bench.html");
    page.Write(RenderBench(rows, CommandLine()));
    page.Finish();
  }
  std::string out = "layout  cores  seconds  series/s  efficiency  imbalance  cost/1000  identical\n";
  for (const BenchRow& r : rows) {
    char line[200], cost[32] = "-";
    if (r.cost_per_1000) std::snprintf(cost, sizeof cost, "%.4g", *r.cost_per_1000);
    std::snprintf(line, sizeof line, "%-6s  %5d  %7.2f  %8.1f  %10.3f  %9.3f  %9s  %s\n", r.Layout().c_str(),
                  r.cores, r.seconds, r.series_per_s, r.efficiency, r.imbalance, cost,
                  r.identical ? "yes" : "NO");
    out += line;
  }
  out += "  " + dir + "/bench.csv\n  " + dir + "/bench.html\n";
  WriteStdout(out);
  if (!differ.empty()) {
    std::string msg = "the layouts' outputs are not identical (bench.csv and bench.html say which):";
    for (const auto& d : differ) msg += "\n  " + d;
    throw std::runtime_error(msg);
  }
  return 0;
}

int RunBenchCompare(const po::variables_map& vm) {
  std::vector<std::pair<std::string, std::vector<BenchRow>>> files;
  for (const auto& path : Get<std::vector<std::string>>(vm, "csv"))
    files.emplace_back(path, ReadBenchCsv(path));
  const std::string path = Get<std::string>(vm, "out");
  TextOutput page(path);
  page.Write(RenderBenchCompare(files));
  page.Finish();
  std::fprintf(stderr, "bench compare: %zu files -> %s\n", files.size(), path.c_str());
  return 0;
}

}  // namespace mm::app
