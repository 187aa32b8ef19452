#include "commands.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "manymodels/core/model.h"
#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"
#include "manymodels/io/generate.h"
#include "manymodels/io/ingest.h"
#include "manymodels/io/predictions.h"
#include "manymodels/io/promote.h"
#include "manymodels/core/select.h"
#include "manymodels/io/registry.h"
#include "manymodels/io/report.h"
#include "manymodels/io/sql.h"
#include "manymodels/parallel/score.h"
#include "manymodels/parallel/train.h"
#include "serve.h"

namespace mm::app {
namespace {

using Clock = std::chrono::steady_clock;

template <typename T>
T Get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

Frequency FrequencyOption(const std::string& s) {
  auto f = ParseFrequency(s);
  if (!f) throw po::error("--freq: '" + s + "' is not one of D, W, M, Q, Y, H, N");
  return *f;
}

Schedule ScheduleOption(const std::string& s) {
  try {
    return ParseSchedule(s);
  } catch (const std::invalid_argument& e) {
    throw po::error(e.what());
  }
}

std::string Fixed(double v, int precision) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

}  // namespace

void CheckFiles(const std::string& command, const po::variables_map& vm) {
  std::vector<FileRole> files;
  auto add = [&](const char* option, bool output, bool stream = false) {
    if (vm.count(option)) files.push_back({std::string("--") + option, Get<std::string>(vm, option), output, stream});
  };
  add("config", false);
  if (command == "generate") {
    add("out", true, true);
  } else if (command == "ingest") {
    for (const auto& input : InputFiles(Get<std::string>(vm, "input")))
      files.push_back({"--input", input, false, false});
    const char* out = vm.count("out") ? "out" : "lake";
    add(out, true);
    if (vm.count("tmpdir")) {
      const std::string dir = Get<std::string>(vm, "tmpdir");
      std::error_code ec;
      if (!std::filesystem::is_directory(dir, ec)) throw UsageError("--tmpdir " + dir + ": no such folder");
    }
    // --append: the lake is read and then replaced by its new version (the one output that is also an input);
    // it must exist, and --out naming the CSV is still refused above.
    if (vm.count("append") && vm["append"].as<bool>() && vm.count(out)) {
      const std::string lake = Get<std::string>(vm, out);
      std::error_code ec;
      if (!std::filesystem::exists(lake, ec))
        throw UsageError(std::string("--append: the lake --") + out + " " + lake +
                         " does not exist (ingest without --append creates it)");
    }
  } else if (command == "train") {
    add("lake", false);
    add("registry", true);
    add("predictions", true);
    add("summary-json", true, true);
  } else if (command == "score") {
    // The production registry is only read; the SQL table (--sql) is no file of ours to compare.
    add("lake", false);
    add("production", false);
    add("predictions", true);
    add("summary-json", true, true);
  } else if (command == "promote") {
    // The existing production registry is read too, and replaced by the new one: the one output allowed to
    // replace its own previous version. It must not be the staging registry, which promote never changes.
    add("registry", false);
    add("keys", false);
    add("production", true);
  } else if (command == "report") {
    add("registry", false);
    add("predictions", false);
    add("production", false);
    add("lake", false);
    add("out", true, true);
  } else if (command == "predictions export") {
    add("predictions", false);
    add("out", true, true);
  } else if (command == "bench") {
    add("prices", false);
    add("lake", false);
    // --out is a folder bench makes (its parent must exist) or one that exists.
    const std::filesystem::path dir = Get<std::string>(vm, "out");
    std::error_code ec;
    if (std::filesystem::exists(dir, ec) && !std::filesystem::is_directory(dir, ec))
      throw UsageError("--out " + dir.string() + ": exists and is not a folder");
    const std::filesystem::path parent = dir.parent_path().empty() ? "." : dir.parent_path();
    if (!std::filesystem::is_directory(parent, ec))
      throw UsageError("--out " + dir.string() + ": the folder " + parent.string() + " does not exist");
  } else if (command == "bench compare") {
    for (const auto& csv : Get<std::vector<std::string>>(vm, "csv")) files.push_back({"--csv", csv, false, false});
    add("out", true, true);
  }
  CheckDistinctFiles(files);
}

int RunGenerate(const po::variables_map& vm) {
  GenerateOptions o;
  o.out = Get<std::string>(vm, "out");
  o.stores = Get<int64_t>(vm, "stores");
  o.items = Get<int64_t>(vm, "items");
  o.length = Get<int64_t>(vm, "length");
  o.frequency = FrequencyOption(Get<std::string>(vm, "freq"));
  o.seed = Get<uint64_t>(vm, "seed");
  o.start = Get<std::string>(vm, "start");
  o.intermittent_share = Get<double>(vm, "intermittent-share");
  o.missing_share = Get<double>(vm, "missing-share");
  const auto t0 = Clock::now();
  const GenerateSummary s = Generate(o);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "generate: %lld rows, %lld series -> %s (%.1f s)\n", static_cast<long long>(s.rows),
               static_cast<long long>(s.series), o.out.c_str(), secs);
  return 0;
}

int RunIngest(const po::variables_map& vm, Communicator& comm) {
  IngestOptions o;
  o.input = Get<std::string>(vm, "input");
  o.keys = SplitList(Get<std::string>(vm, "keys"));
  o.time = Get<std::string>(vm, "time");
  o.target = Get<std::string>(vm, "target");
  if (vm.count("covariates")) o.covariates = SplitList(Get<std::string>(vm, "covariates"));
  if (vm.count("freq")) o.frequency = FrequencyOption(Get<std::string>(vm, "freq"));
  if (vm.count("season-length")) o.season_lengths = ParseNumberList(Get<std::string>(vm, "season-length"), "season-length");
  if (vm.count("out")) o.out = Get<std::string>(vm, "out");
  else if (vm.count("lake")) o.out = Get<std::string>(vm, "lake");
  else throw po::error("the option '--out' is required but missing");
  o.append = vm.count("append") && Get<bool>(vm, "append");
  o.memory = ParseByteSize(Get<std::string>(vm, "memory"), "memory");
  if (vm.count("tmpdir")) o.tmpdir = Get<std::string>(vm, "tmpdir");
  const auto t0 = Clock::now();
  Provenance provenance{"ingest", DescribeOptions(vm), "", CommandLine(), {}};
  for (const auto& input : InputFiles(o.input)) provenance.inputs.emplace_back("input", AbsolutePath(input));
  const IngestSummary s = Ingest(o, provenance, &comm);
  if (comm.rank() != 0) return 0;
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (o.append)
    std::fprintf(stderr, "ingest --append: %lld rows: %lld new series, %lld new periods, %lld empty values filled\n",
                 static_cast<long long>(s.rows), static_cast<long long>(s.new_series),
                 static_cast<long long>(s.new_periods), static_cast<long long>(s.filled));
  std::fprintf(stderr,
               "ingest: %lld rows, %lld series, %lld periods (%lld missing), frequency %c -> %s "
               "(%.1f s, %.2f million rows/s)\n",
               static_cast<long long>(s.rows), static_cast<long long>(s.series), static_cast<long long>(s.periods),
               static_cast<long long>(s.missing), FrequencyCode(s.frequency), o.out.c_str(), secs,
               static_cast<double>(s.rows) / secs / 1e6);
  if (s.runs > 0)
    std::fprintf(
        stderr,
        "ingest: more rows than --memory %s holds%s: %lld sorted run%s, %.1f MB on the scratch file in %s; "
        "the key index took %.1f MiB\n",
        Get<std::string>(vm, "memory").c_str(), comm.size() > 1 ? " per rank" : "",
        static_cast<long long>(s.runs), s.runs == 1 ? "" : "s", static_cast<double>(s.spilled_bytes) / 1e6,
        ScratchFolder(o).c_str(), static_cast<double>(s.index_bytes) / 1048576.0);
  if (static_cast<uint64_t>(s.index_bytes) > RowBudget(o.memory) - RowBudget(o.memory) / 8)
    std::fprintf(
        stderr,
        "ingest: warning: the key index of %lld series takes %.0f MiB, more than --memory %s leaves for it; "
        "memory use went past --memory: give more\n",
        static_cast<long long>(s.series), static_cast<double>(s.index_bytes) / 1048576.0,
        Get<std::string>(vm, "memory").c_str());
  return 0;
}

namespace {

std::string Format(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Format(const char* format, ...) {
  char buf[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

std::string RankTable(const std::vector<RankReport>& ranks, const char* work);
std::string BalanceLine(const std::vector<RankReport>& ranks, Schedule schedule);

std::string SummaryText(const RunSummary& s, const TrainOptions& o) {

  std::string chosen;
  for (const auto& [name, n] : s.chosen) chosen += (chosen.empty() ? "" : ", ") + name + " " + std::to_string(n);
  std::string out = Format("manymodels train: run %s\n", s.run_id.c_str());
  if (s.stopped)
    out += Format("  stopped      by SIGUSR1: %lld of %lld models done, in the journal; outputs not written\n",
                  static_cast<long long>(s.done), static_cast<long long>(s.models));
  out += Format("  models       %lld (from %lld series), failed %lld, with a note %lld\n",
                static_cast<long long>(s.models), static_cast<long long>(s.source_series),
                static_cast<long long>(s.failed), static_cast<long long>(s.with_notes));
  out += Format("  chosen       %s\n", chosen.c_str());
  out += Format("  time         %.2f s (%.0f models/s) on %zu rank(s)\n", s.seconds,
                static_cast<double>(s.models) / std::max(s.seconds, 1e-9), s.ranks.size());
  out += Format("  journal      %s: %s", s.journal.c_str(), s.journal_note.c_str());
  if (s.from_journal > 0 || s.journal_records > 0)
    out += Format("; %lld models taken from %lld records (%.2f s), %lld fitted now", static_cast<long long>(s.from_journal),
                  static_cast<long long>(s.journal_records), s.journal_read_seconds,
                  static_cast<long long>(s.models - s.from_journal));
  out += "\n";
  for (const auto& d : s.journal_dropped) out += "  journal      dropped " + d + "\n";
  out += BalanceLine(s.ranks, s.schedule);
  out += RankTable(s.ranks, "fit s");
  const char* written = s.stopped ? " (not written: stopped)" : "";
  out += Format("  registry     %s%s\n  predictions  %s%s\n", o.registry.c_str(), written, o.predictions.c_str(), written);
  return out;
}

// The largest rank's busy time over the mean (1: perfectly balanced).
double Imbalance(const std::vector<RankReport>& ranks) {
  double sum = 0, most = 0;
  for (const auto& r : ranks) sum += r.busy_seconds, most = std::max(most, r.busy_seconds);
  return sum > 0 ? most / (sum / static_cast<double>(ranks.size())) : 1.0;
}

std::string BalanceLine(const std::vector<RankReport>& ranks, Schedule schedule) {
  return Format("  balance      %s schedule, imbalance %.3f (busy seconds, largest rank over the mean)\n",
                ScheduleName(schedule), Imbalance(ranks));
}

// The per-rank lines of a run summary (train, score); `work` names the compute column. Busy is the rank's own
// share (read, fit and moving its results, not waiting); write and wait are rank 0's writer and its waits on it.
std::string RankTable(const std::vector<RankReport>& ranks, const char* work) {
  std::string out = Format("  %-4s  %-16s  %-28s  %-4s  %-8s  %-8s  %-8s  %-8s  %-8s  %-9s  %-8s  %-8s  %s\n", "rank",
                           "host", "threads given -> used", "cpus", "models", "busy s", "read s", work, "gather s",
                           "journal s", "write s", "wait s", "peak MiB");
  for (const auto& r : ranks) {
    const std::string given =
        r.threads_given > 0 ? std::to_string(r.threads_given) + " (" + r.thread_source + ")" : "- (affinity)";
    out += Format("  %-4d  %-16s  %-28s  %-4d  %-8lld  %-8.2f  %-8.2f  %-8.2f  %-8.2f  %-9.2f  %-8.2f  %-8.2f  %.0f\n",
                  r.rank, r.host.c_str(), (given + " -> " + std::to_string(r.threads_used)).c_str(), r.cpus_in_mask,
                  static_cast<long long>(r.groups), r.busy_seconds, r.read_seconds, r.fit_seconds, r.gather_seconds,
                  r.journal_seconds, r.write_seconds, r.write_wait_seconds, r.peak_rss_mb);
  }
  return out;
}

nlohmann::json RanksJson(const std::vector<RankReport>& ranks) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : ranks)
    out.push_back({{"rank", r.rank}, {"host", r.host}, {"threads_given", r.threads_given},
                   {"threads_used", r.threads_used}, {"thread_source", r.thread_source},
                   {"cpus_in_mask", r.cpus_in_mask}, {"models", r.groups}, {"busy_seconds", r.busy_seconds},
                   {"read_seconds", r.read_seconds}, {"fit_seconds", r.fit_seconds},
                   {"gather_seconds", r.gather_seconds}, {"journal_seconds", r.journal_seconds},
                   {"journal_sync_seconds", r.journal_sync_seconds},
                   {"write_seconds", r.write_seconds},
                   {"write_wait_seconds", r.write_wait_seconds}, {"peak_rss_mib", r.peak_rss_mb},
                   {"stopped", r.stopped}});
  return out;
}

// The --summary-json fields train (RunSummary, TrainOptions) and score (ScoreSummary, ScoreOptions) share;
// each adds its own.
template <typename Summary, typename Options>
nlohmann::json RunJson(const Summary& s, const Options& o) {
  nlohmann::json j;
  j["run_id"] = s.run_id;
  j["seconds"] = s.seconds;
  j["predictions"] = AbsolutePath(o.predictions);
  j["lake"] = AbsolutePath(o.lake);
  j["command_line"] = o.command_line;
  j["ranks"] = RanksJson(s.ranks);
  j["schedule"] = ScheduleName(s.schedule);
  j["imbalance"] = Imbalance(s.ranks);
  return j;
}

nlohmann::json SummaryJson(const RunSummary& s, const TrainOptions& o) {
  nlohmann::json j = RunJson(s, o);
  j["stopped"] = s.stopped;
  j["done"] = s.done;
  j["models"] = s.models;
  j["source_series"] = s.source_series;
  j["lake_rows"] = s.lake_rows;
  j["failed"] = s.failed;
  j["with_notes"] = s.with_notes;
  j["chosen"] = s.chosen;
  j["registry"] = AbsolutePath(o.registry);
  j["resolved"] = s.resolved;
  j["journal"] = AbsolutePath(o.registry) + ".journal";
  j["journal_note"] = s.journal_note;
  j["from_journal"] = s.from_journal;
  j["journal_records"] = s.journal_records;
  j["journal_read_seconds"] = s.journal_read_seconds;
  j["journal_dropped"] = s.journal_dropped;
  return j;
}

}  // namespace

// The train options, checked: a bad value is a usage error (exit 2), found before MPI starts.
TrainOptions TrainOptionsFrom(const po::variables_map& vm) {
  TrainOptions o;
  o.lake = Get<std::string>(vm, "lake");
  o.registry = Get<std::string>(vm, "registry");
  o.predictions = Get<std::string>(vm, "predictions");
  o.horizon = Get<int>(vm, "horizon");
  if (o.horizon < 1) throw po::error("--horizon must be at least 1");
  o.models = Get<std::string>(vm, "models");
  try {
    ResolveModels(o.models);
  } catch (const std::exception& e) {
    throw po::error(std::string("--models: ") + e.what());
  }
  if (vm.count("season-length")) o.season_lengths = ParseNumberList(Get<std::string>(vm, "season-length"), "season-length");
  if (vm.count("partition-by")) o.partition_by = SplitList(Get<std::string>(vm, "partition-by"));
  if (vm.count("pool-by")) o.pool_by = SplitList(Get<std::string>(vm, "pool-by"));
  if (vm.count("judge-by")) o.judge_by = SplitList(Get<std::string>(vm, "judge-by"));
  o.covariates = Get<std::string>(vm, "covariates");
  o.backtest_windows = Get<int>(vm, "backtest-windows");
  if (o.backtest_windows < 1 || o.backtest_windows > 1000) throw po::error("--backtest-windows must be 1 to 1000");
  o.ensemble = Get<std::string>(vm, "ensemble");
  if (o.ensemble != "auto" && o.ensemble != "none" && o.ensemble != "mean" && o.ensemble != "median")
    throw po::error("--ensemble: '" + o.ensemble + "' is not auto, none, mean or median");
  if (const std::string problem = PoolByProblem(o); !problem.empty()) throw po::error(problem);
  o.ensemble_size = Get<int>(vm, "ensemble-size");
  if (o.ensemble_size < 2 || o.ensemble_size > 100) throw po::error("--ensemble-size must be 2 to 100");
  if (const auto mh = Get<std::string>(vm, "max-history"); mh == "all") {
    o.max_history = 0;
  } else if (mh != "auto") {
    const auto [ptr, ec] = std::from_chars(mh.data(), mh.data() + mh.size(), o.max_history);
    if (ec != std::errc() || ptr != mh.data() + mh.size() || o.max_history < 2)
      throw po::error("--max-history: '" + mh + "' is not auto, all or a whole number above 1");
  }
  o.threads = Get<int>(vm, "threads");
  if (o.threads < 0) throw po::error("--threads must be 0 (automatic) or more");
  o.seed = Get<uint64_t>(vm, "seed");
  o.batch = Get<int64_t>(vm, "batch");
  if (o.batch < 1) throw po::error("--batch must be at least 1");
  o.schedule = ScheduleOption(Get<std::string>(vm, "schedule"));
  o.resume = Get<bool>(vm, "resume");
  if (vm.count("run-id")) {
    o.run_id = Get<std::string>(vm, "run-id");
    if (o.run_id.empty() || o.run_id.find_first_of("\n\r\t") != std::string::npos)
      throw po::error("--run-id: '" + o.run_id + "' is empty or holds a line break or tab");
  }
  o.progress = !Get<bool>(vm, "quiet");
  o.progress_every = Get<double>(vm, "progress-every");
  if (!(o.progress_every >= 0 && o.progress_every < 1e6)) throw po::error("--progress-every must be 0 or more seconds");
  o.options_text = DescribeOptions(vm);
  o.command_line = CommandLine();
  return o;
}

namespace {

// The score options, checked: a bad value is a usage error (exit 2), found before MPI starts.
ScoreOptions ScoreOptionsFrom(const po::variables_map& vm) {
  ScoreOptions o;
  o.lake = Get<std::string>(vm, "lake");
  o.production = Get<std::string>(vm, "production");
  o.predictions = Get<std::string>(vm, "predictions");
  o.horizon = Get<int>(vm, "horizon");
  if (o.horizon < 1) throw po::error("--horizon must be at least 1");
  if (vm.count("run-id")) {
    o.run_id = Get<std::string>(vm, "run-id");
    if (o.run_id.empty()) throw po::error("--run-id: empty");
    if (!vm.count("sql")) throw UsageError("--run-id tags the rows of --sql; without --sql there is no run id to set");
  }
  if (vm.count("sql") && !IsSqlUrl(Get<std::string>(vm, "sql")))
    throw UsageError("--sql: '" + RedactSqlUrl(Get<std::string>(vm, "sql")) +
                     "' is not a database URL: sqlite:///abs/path.db, sqlite://relative.db or "
                     "postgresql://user@host:port/db");
  o.threads = Get<int>(vm, "threads");
  if (o.threads < 0) throw po::error("--threads must be 0 (automatic) or more");
  o.batch = Get<int64_t>(vm, "batch");
  if (o.batch < 1) throw po::error("--batch must be at least 1");
  o.schedule = ScheduleOption(Get<std::string>(vm, "schedule"));
  o.progress = !Get<bool>(vm, "quiet");
  o.progress_every = Get<double>(vm, "progress-every");
  if (!(o.progress_every >= 0 && o.progress_every < 1e6)) throw po::error("--progress-every must be 0 or more seconds");
  o.options_text = DescribeOptions(vm);
  o.command_line = CommandLine();
  return o;
}

// The forecasts of the predictions file into the SQL table, each series tagged with its model's version (runs
// of series of one version written together), in one transaction replacing the run id's rows.
int64_t ScoreToSql(const std::string& url, const std::string& path, const ScoreSummary& s) {
  const PredictionsReader reader(path);
  auto sink = SqlPredictionsSink::Open(url, SqlKeyColumns(reader.Read(0, 0).keys), s.run_id);
  constexpr size_t kBlock = 8192;
  for (size_t first = 0; first < reader.size();) {
    size_t end = first + 1;
    while (end < reader.size() && end - first < kBlock && s.versions[end] == s.versions[first]) ++end;
    sink->Write(reader.Read(first, end - first), s.versions[first]);
    first = end;
  }
  return sink->Commit();
}

std::string KeyList(int64_t n, const std::vector<std::string>& first) {
  std::string out;
  for (const auto& k : first) out += (out.empty() ? "" : "; ") + k;
  if (n > static_cast<int64_t>(first.size())) out += "; ...";
  return out.empty() ? "" : " (" + out + ")";
}

std::string ScoreText(const ScoreSummary& s, const ScoreOptions& o, const std::string& sql) {
  std::string out = Format("manymodels score: run %s\n", s.run_id.c_str());
  out += Format("  production   %lld key(s) with a production model, newest version %s\n",
                static_cast<long long>(s.production_keys), s.newest_version.c_str());
  out += Format("  scored       %lld: updated %lld (%lld new periods in all), forecast as saved %lld, failed %lld\n",
                static_cast<long long>(s.scored), static_cast<long long>(s.updated),
                static_cast<long long>(s.new_periods), static_cast<long long>(s.as_saved),
                static_cast<long long>(s.failed));
  if (s.as_saved) out += "  as saved     " + KeyList(s.as_saved, s.as_saved_keys).substr(1) + "\n";
  if (s.failed) out += "  failed       " + KeyList(s.failed, s.failed_keys).substr(1) + "\n";
  out += Format("  not in production  %lld lake series without a production model%s\n",
                static_cast<long long>(s.not_in_production),
                KeyList(s.not_in_production, s.not_in_production_keys).c_str());
  out += Format("  not in lake  %lld production model(s) whose key is not in the lake%s\n",
                static_cast<long long>(s.not_in_lake), KeyList(s.not_in_lake, s.not_in_lake_keys).c_str());
  out += Format("  time         %.2f s (%.0f models/s) on %zu rank(s)\n", s.seconds,
                static_cast<double>(s.scored) / std::max(s.seconds, 1e-9), s.ranks.size());
  out += BalanceLine(s.ranks, s.schedule);
  out += RankTable(s.ranks, "score s");
  out += Format("  predictions  %s\n", o.predictions.c_str());
  if (!sql.empty()) out += "  sql          " + sql + "\n";
  return out;
}

}  // namespace

void CheckOptions(const std::string& command, const po::variables_map& vm) {
  if (command == "train") TrainOptionsFrom(vm);
  if (command == "score") ScoreOptionsFrom(vm);
  if (command == "bench") CheckBenchOptions(vm);
}

int RunScore(const po::variables_map& vm, Communicator& comm) {
  const ScoreOptions o = ScoreOptionsFrom(vm);
  const std::string url = vm.count("sql") ? Get<std::string>(vm, "sql") : "";
  std::string sql;
  // The SQL rows go in once the predictions file is complete and in place, from rank 0, before the ranks part.
  auto to_sql = [&](const ScoreSummary& s) {
    if (url.empty()) return;
    const auto t0 = Clock::now();
    const int64_t rows = ScoreToSql(url, o.predictions, s);
    const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    sql = Format("%lld rows of run id %s -> %s, table predictions (%.2f s)", static_cast<long long>(rows),
                 s.run_id.c_str(), RedactSqlUrl(url).c_str(), secs);
  };
  const ScoreSummary s = Score(o, comm, to_sql);
  if (comm.rank() != 0) return 0;
  for (const auto& r : s.ranks)
    if (!r.thread_warning.empty()) std::fprintf(stderr, "warning: rank %d: %s\n", r.rank, r.thread_warning.c_str());
  if (vm.count("summary-json")) {
    nlohmann::json j = RunJson(s, o);
    j["production_keys"] = s.production_keys;
    j["lake_series"] = s.lake_series;
    j["scored"] = s.scored;
    j["updated"] = s.updated;
    j["new_periods"] = s.new_periods;
    j["as_saved"] = s.as_saved;
    j["failed"] = s.failed;
    j["not_in_production"] = s.not_in_production;
    j["not_in_lake"] = s.not_in_lake;
    j["not_in_production_keys"] = s.not_in_production_keys;
    j["not_in_lake_keys"] = s.not_in_lake_keys;
    j["as_saved_keys"] = s.as_saved_keys;
    j["failed_keys"] = s.failed_keys;
    j["production"] = AbsolutePath(o.production);
    TextOutput json(Get<std::string>(vm, "summary-json"));
    json.Write(j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    json.Finish();
  }
  WriteStdout(ScoreText(s, o, sql));
  return 0;
}

int RunTrain(const po::variables_map& vm, Communicator& comm, const std::atomic<int>* stop) {
  TrainOptions o = TrainOptionsFrom(vm);
  o.stop = stop;
  const RunSummary s = Train(o, comm);
  // Rank 0 alone says the run stopped: a launcher ends the job at the first rank that exits non-zero, which must
  // not cut short rank 0's summary.
  if (comm.rank() != 0) return 0;
  for (const auto& r : s.ranks)
    if (!r.thread_warning.empty()) std::fprintf(stderr, "warning: rank %d: %s\n", r.rank, r.thread_warning.c_str());
  if (vm.count("summary-json")) {
    TextOutput json(Get<std::string>(vm, "summary-json"));
    json.Write(SummaryJson(s, o).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    json.Finish();
  }
  WriteStdout(SummaryText(s, o));
  if (s.stopped)
    std::fprintf(stderr, "manymodels train: stopped by SIGUSR1 with %lld of %lld models done, all in the journal %s: "
                         "the same command with --resume goes on from there (exit %d)\n",
                 static_cast<long long>(s.done), static_cast<long long>(s.models), s.journal.c_str(), kExitStopped);
  return s.stopped ? kExitStopped : 0;
}

namespace {

const char* const kMetricNames[] = {"mae", "rmse", "mape", "smape", "mase"};

std::vector<double> MetricValues(const Metrics& m) { return {m.mae, m.rmse, m.mape, m.smape, m.mase}; }

}  // namespace

std::string RegistryListing(const RegistryTable& t, const std::string& format) {
  std::vector<std::string> header = t.keys.Names();
  for (const char* c : {"model", "version", "status", "mae", "rmse", "mape", "smape", "mase", "n_obs", "note"})
    header.push_back(c);
  auto cells = [&](size_t i, bool exact) {
    const ModelRecord& r = t.rows[i];
    std::vector<std::string> c;
    for (const auto& col : t.keys.columns) c.push_back(col.Text(i));
    c.insert(c.end(), {r.model, r.version, r.status});
    for (double v : MetricValues(r.metrics)) {
      std::string s;
      if (exact) AppendNumber(&s, v);
      else s = Fixed(v, 3);
      c.push_back(s);
    }
    c.push_back(std::to_string(r.n_obs));
    c.push_back(r.note);
    return c;
  };
  std::string out;
  if (format == "csv") {
    for (size_t j = 0; j < header.size(); ++j) (j ? out += ',' : out), AppendCsvField(&out, header[j]);
    out += '\n';
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const auto c = cells(i, true);
      for (size_t j = 0; j < c.size(); ++j) (j ? out += ',' : out), AppendCsvField(&out, c[j]);
      out += '\n';
    }
  } else if (format == "json") {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < t.rows.size(); ++i) {
      const ModelRecord& r = t.rows[i];
      nlohmann::json row;
      for (const auto& col : t.keys.columns) {
        if (col.is_text) row[col.name] = col.texts[i];
        else row[col.name] = col.ints[i];
      }
      row["model"] = r.model;
      row["version"] = r.version;
      row["status"] = r.status;
      const auto m = MetricValues(r.metrics);
      for (size_t k = 0; k < 5; ++k) row[kMetricNames[k]] = std::isnan(m[k]) ? nlohmann::json() : nlohmann::json(m[k]);
      row["n_obs"] = r.n_obs;
      row["note"] = r.note;
      rows.push_back(row);
    }
    out = rows.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  } else if (format == "table") {
    std::vector<std::vector<std::string>> all = {header};
    for (size_t i = 0; i < t.rows.size(); ++i) all.push_back(cells(i, false));
    std::vector<size_t> width(header.size(), 0);
    for (const auto& row : all)
      for (size_t j = 0; j + 1 < row.size(); ++j) width[j] = std::max(width[j], row[j].size());
    for (const auto& row : all) {
      for (size_t j = 0; j < row.size(); ++j) {
        out += row[j];
        if (j + 1 < row.size()) out += std::string(width[j] - row[j].size() + 2, ' ');
      }
      out += '\n';
    }
  } else {
    throw po::error("--format: '" + format + "' is not table, csv or json");
  }
  return out;
}

int RunRegistryList(const po::variables_map& vm) {
  const RegistryTable t = ReadRegistry(Get<std::string>(vm, "registry"), /*load_params=*/false);
  WriteStdout(RegistryListing(t, Get<std::string>(vm, "format")));
  return 0;
}

// --key store=12,item=5: every key column named once, in any order; the values in key column order.
std::vector<std::string> ParseKeyOption(const std::string& text, const std::vector<std::string>& columns) {
  try {
    return ParseKeyText(text, columns);
  } catch (const std::invalid_argument& e) {
    throw po::error(std::string("--key: ") + e.what());
  }
}

int RunRegistryShow(const po::variables_map& vm) {
  const RegistryReader reader(Get<std::string>(vm, "registry"));
  const std::vector<std::string> want = ParseKeyOption(Get<std::string>(vm, "key"), reader.key_columns());
  // A production registry holds several rows per key (its archived versions): show the production row, else
  // the latest.
  const auto [first, last] = reader.FindRange(want);
  std::optional<size_t> row;
  std::vector<std::string> archived;
  if (first < last) {
    const std::vector<ModelRecord> all = reader.ReadRows(first, last - first, false);
    row = last - 1;
    for (size_t i = 0; i < all.size(); ++i) {
      if (all[i].status == "production") row = first + i;
      if (all[i].status == "archived") archived.push_back(all[i].version);
    }
  }
  if (!row) {
    std::fprintf(stderr, "manymodels registry show: no model with key %s\n", Get<std::string>(vm, "key").c_str());
    return 1;
  }
  const ModelRecord r = reader.ReadRows(*row, 1, true).at(0);
  const KeyTable key = reader.ReadKeys(*row, 1);
  std::string out = Format("key          %s\nmodel        %s\nmethod       %s\nversion      %s\nstatus       %s\n",
                           key.Describe(0).c_str(), r.model.c_str(), r.method.c_str(), r.version.c_str(),
                           r.status.c_str());
  const auto m = MetricValues(r.metrics);
  for (size_t k = 0; k < 5; ++k) out += Format("%-12s %s\n", kMetricNames[k], Fixed(m[k], 4).c_str());
  out += Format("n_obs        %lld\nlast period  %s\n", static_cast<long long>(r.n_obs),
                FormatPeriod(reader.meta().frequency, r.last_period, reader.meta().weekly_anchor).c_str());
  if (!r.params.empty()) {
    std::unique_ptr<FittedModel> model;
    try {
      model = LoadModel(r.params);
    } catch (const std::exception& e) {
      throw std::runtime_error(Get<std::string>(vm, "registry") + ": the model of " + key.Describe(0) +
                               " cannot be read: " + e.what());
    }
    out += "parameters   " + model->Describe() + "\n";
  }
  out += "note         " + r.note + "\n";
  if (last - first > 1 || !archived.empty()) {
    std::string versions;
    for (auto it = archived.rbegin(); it != archived.rend(); ++it) versions += (versions.empty() ? "" : ", ") + *it;
    out += Format("archived     %zu version(s)%s%s\n", archived.size(), versions.empty() ? "" : ", newest first: ",
                  versions.c_str());
  }
  WriteStdout(out);
  return 0;
}

int RunPromote(const po::variables_map& vm) {
  PromoteOptions o;
  o.production = Get<std::string>(vm, "production");
  if (vm.count("rollback")) {
    o.rollback = Get<std::string>(vm, "rollback");
    if (vm.count("rule") || vm.count("compare") || vm.count("registry"))
      std::fprintf(stderr, "manymodels promote: --rollback ignores --registry, --rule and --compare\n");
  } else {
    o.registry = Get<std::string>(vm, "registry");
    for (const auto& rule : Get<std::vector<std::string>>(vm, "rule")) o.rules.push_back(ParseRule(rule));
    if (vm.count("compare")) o.compare = Get<std::string>(vm, "compare");
    if (vm.count("margin")) o.margin = Get<double>(vm, "margin");
  }
  if (vm.count("keys")) o.keys_file = Get<std::string>(vm, "keys");
  o.dry_run = Get<bool>(vm, "dry-run");
  // The promotion's own run id is the production registry's version (what `serve` reports).
  Provenance provenance{"promote", DescribeOptions(vm), NewRunId(), CommandLine(), {}};
  if (!o.rollback) provenance.inputs.emplace_back("registry", AbsolutePath(o.registry));
  if (::access(o.production.c_str(), F_OK) == 0) provenance.inputs.emplace_back("production", AbsolutePath(o.production));
  if (!o.keys_file.empty()) provenance.inputs.emplace_back("keys", AbsolutePath(o.keys_file));
  const auto t0 = Clock::now();
  const PromoteResult r = Promote(o, provenance);
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  if (r.unknown_keys > 0)
    std::fprintf(stderr, "warning: %lld key(s) of %s match no model\n", static_cast<long long>(r.unknown_keys),
                 o.keys_file.c_str());
  std::fprintf(stderr, "promote: %s (%.2f s)\n", r.written ? ("wrote " + o.production).c_str() : "nothing written",
               secs);
  WriteStdout(PromoteReport(o, r));
  return 0;
}

int RunServe(const po::variables_map& vm) {
  ServeOptions o;
  o.production = Get<std::string>(vm, "production");
  o.lake = Get<std::string>(vm, "lake");
  o.host = Get<std::string>(vm, "host");
  o.port = Get<int>(vm, "port");
  o.cache_models = static_cast<size_t>(Get<int64_t>(vm, "cache-models"));
  o.threads = Get<int>(vm, "threads");
  o.max_horizon = Get<int>(vm, "max-horizon");
  o.reload_every = Get<double>(vm, "reload-every");
  return Serve(o, [](const std::string& host, int port) {
    // The one line on stdout: where to send requests (a script started with --port 0 reads it).
    WriteStdout("http://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                std::to_string(port) + "\n");
    std::fflush(stdout);
  });
}

int RunReport(const po::variables_map& vm) {
  ReportOptions o;
  o.registry = Get<std::string>(vm, "registry");
  o.predictions = Get<std::string>(vm, "predictions");
  if (vm.count("production")) o.production = Get<std::string>(vm, "production");
  if (vm.count("lake")) o.lake = Get<std::string>(vm, "lake");
  o.worst = static_cast<size_t>(Get<int>(vm, "worst"));
  const std::string path = Get<std::string>(vm, "out");
  const auto t0 = Clock::now();
  const ReportData data = GatherReport(o);
  TextOutput out(path);
  out.Write(RenderReport(data));
  out.Finish();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "report: run %s, %lld models, %zu worst series -> %s (%.2f s)\n", data.run_id.c_str(),
               static_cast<long long>(data.models), data.worst.size(), path.c_str(), secs);
  return 0;
}

namespace {

// predictions export --sql: the rows into the table predictions, the run id's earlier rows replaced in one
// transaction (io/sql.h). The table is the one output: --out and --format are refused.
int ExportPredictionsToSql(const po::variables_map& vm) {
  const std::string url = Get<std::string>(vm, "sql");
  if (vm.count("out") || !vm["format"].defaulted())
    throw UsageError("--sql writes the rows into a table only; --out and --format are for CSV or JSON "
                     "(export twice for both)");
  if (!IsSqlUrl(url))
    throw UsageError("--sql: '" + RedactSqlUrl(url) +
                     "' is not a database URL: sqlite:///abs/path.db, sqlite://relative.db or "
                     "postgresql://user@host:port/db");
  const std::string path = Get<std::string>(vm, "predictions");
  const PredictionsReader reader(path);
  // version: the run that trained the models, recorded in the predictions file; run_id: --run-id, else that.
  const std::string version = reader.run_id();
  const std::string run_id = vm.count("run-id") ? Get<std::string>(vm, "run-id") : version;
  if (run_id.empty())
    throw UsageError(vm.count("run-id") ? "--run-id: empty"
                                        : "--run-id: " + path + " records no run_id; name the run with --run-id");
  const auto t0 = Clock::now();
  auto sink = SqlPredictionsSink::Open(url, SqlKeyColumns(reader.Read(0, 0).keys), run_id);
  constexpr size_t kBlock = 8192;  // series a batch: memory stays bounded whatever the file's size
  for (size_t first = 0; first < reader.size(); first += kBlock) sink->Write(reader.Read(first, kBlock), version);
  const int64_t rows = sink->Commit();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr, "predictions export: %lld rows of run id %s -> %s, table predictions (%.2f s, %.0f rows/s)\n",
               static_cast<long long>(rows), run_id.c_str(), sink->url().c_str(), secs,
               secs > 0 ? static_cast<double>(rows) / secs : 0.0);
  return 0;
}

}  // namespace

int RunPredictionsExport(const po::variables_map& vm) {
  if (vm.count("sql")) return ExportPredictionsToSql(vm);
  if (vm.count("run-id")) throw UsageError("--run-id tags the rows of --sql; without --sql there is no run id to set");
  const std::string format = Get<std::string>(vm, "format");
  if (format != "csv" && format != "json") throw po::error("--format: '" + format + "' is not csv or json");
  ExportPredictions(Get<std::string>(vm, "predictions"), format == "json",
                    vm.count("out") ? Get<std::string>(vm, "out") : std::string());
  return 0;
}

void ExportPredictions(const std::string& predictions, bool json, const std::string& path) {
  const PredictionsReader reader(predictions);
  TextOutput out(path);
  // Streamed a block of series at a time: memory stays bounded whatever the file's size.
  constexpr size_t kBlock = 8192;
  std::string text;
  bool first_row = true;
  if (json) {
    text = "[";
  } else {
    for (const auto& name : reader.key_columns()) AppendCsvField(&text, name), text += ',';
    text += "step,time,forecast,lo80,hi80,lo95,hi95,model\n";
  }
  for (size_t first = 0; first < reader.size(); first += kBlock) {
    const PredictionsTable t = reader.Read(first, kBlock);
    for (size_t s = 0; s < t.keys.size(); ++s) {
      std::string prefix, model;
      nlohmann::json keys = nlohmann::json::object();
      if (json) {
        for (const auto& col : t.keys.columns)
          keys[col.name] = col.is_text ? nlohmann::json(col.texts[s]) : nlohmann::json(col.ints[s]);
      } else {
        for (const auto& col : t.keys.columns) AppendCsvField(&prefix, col.Text(s)), prefix += ',';
        AppendCsvField(&model, t.model[s]);
      }
      for (auto r = static_cast<size_t>(t.offsets[s]); r < static_cast<size_t>(t.offsets[s + 1]); ++r) {
        const std::string time = FormatPeriod(t.meta.frequency, t.period[r], t.meta.weekly_anchor);
        const double values[5] = {t.forecast[r], t.lo80[r], t.hi80[r], t.lo95[r], t.hi95[r]};
        if (json) {
          nlohmann::json row = keys;
          row["step"] = t.step[r];
          row["time"] = time;
          const char* names[5] = {"forecast", "lo80", "hi80", "lo95", "hi95"};
          for (int c = 0; c < 5; ++c)
            row[names[c]] = std::isnan(values[c]) ? nlohmann::json() : nlohmann::json(values[c]);
          row["model"] = t.model[s];
          text += first_row ? "\n" : ",\n";
          text += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        } else {
          text += prefix;
          text += std::to_string(t.step[r]);
          text += ',';
          text += time;
          for (double v : values) {
            text += ',';
            AppendNumber(&text, v);
          }
          text += ',';
          text += model;
          text += '\n';
        }
        first_row = false;
      }
      if (text.size() > (1u << 20)) {
        out.Write(text);
        text.clear();
      }
    }
  }
  if (json) text += first_row ? "]\n" : "\n]\n";
  out.Write(text);
  out.Finish();
}

}  // namespace mm::app
