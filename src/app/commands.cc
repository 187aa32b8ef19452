#include "commands.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "manymodels/core/model.h"
#include "manymodels/io/csv.h"
#include "manymodels/io/files.h"
#include "manymodels/io/generate.h"
#include "manymodels/io/ingest.h"
#include "manymodels/io/predictions.h"
#include "manymodels/io/registry.h"
#include "manymodels/parallel/train.h"

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

std::string Fixed(double v, int precision) {
  if (std::isnan(v)) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", precision, v);
  return buf;
}

// Writes text to --out atomically, or to stdout.
void Emit(const po::variables_map& vm, const std::string& text) {
  if (!vm.count("out")) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return;
  }
  AtomicOutput out(Get<std::string>(vm, "out"));
  {
    std::ofstream f(out.temp_path(), std::ios::binary);
    f << text;
    if (!f.flush()) throw std::runtime_error(out.path() + ": write failed");
  }
  out.Commit();
}

}  // namespace

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

int RunIngest(const po::variables_map& vm) {
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
  const auto t0 = Clock::now();
  const IngestSummary s = Ingest(o, Provenance{"ingest", DescribeOptions(vm), ""});
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::fprintf(stderr,
               "ingest: %lld rows, %lld series, %lld periods (%lld missing), frequency %c -> %s "
               "(%.1f s, %.2f million rows/s)\n",
               static_cast<long long>(s.rows), static_cast<long long>(s.series), static_cast<long long>(s.periods),
               static_cast<long long>(s.missing), FrequencyCode(s.frequency), o.out.c_str(), secs,
               static_cast<double>(s.rows) / secs / 1e6);
  return 0;
}

int RunTrain(const po::variables_map& vm, Communicator& comm) {
  TrainOptions o;
  o.lake = Get<std::string>(vm, "lake");
  o.registry = Get<std::string>(vm, "registry");
  o.predictions = Get<std::string>(vm, "predictions");
  o.horizon = Get<int>(vm, "horizon");
  if (o.horizon < 1) throw po::error("--horizon must be at least 1");
  o.models = Get<std::string>(vm, "models");
  if (vm.count("season-length")) o.season_lengths = ParseNumberList(Get<std::string>(vm, "season-length"), "season-length");
  if (vm.count("partition-by")) o.partition_by = SplitList(Get<std::string>(vm, "partition-by"));
  o.covariates = Get<std::string>(vm, "covariates");
  o.backtest_windows = Get<int>(vm, "backtest-windows");
  if (o.backtest_windows < 1) throw po::error("--backtest-windows must be at least 1");
  o.ensemble = Get<std::string>(vm, "ensemble");
  o.ensemble_size = Get<int>(vm, "ensemble-size");
  if (o.ensemble_size < 2) throw po::error("--ensemble-size must be at least 2");
  if (const auto mh = Get<std::string>(vm, "max-history"); mh == "all") {
    o.max_history = 0;
  } else if (mh != "auto") {
    try {
      o.max_history = std::stoll(mh);
    } catch (...) {
      o.max_history = 0;
    }
    if (o.max_history < 2) throw po::error("--max-history: '" + mh + "' is not auto, all or a number above 1");
  }
  o.threads = Get<int>(vm, "threads");
  if (o.threads < 0) throw po::error("--threads must be 0 (automatic) or more");
  o.seed = Get<uint64_t>(vm, "seed");
  o.batch = Get<int64_t>(vm, "batch");
  if (o.batch < 1) throw po::error("--batch must be at least 1");
  o.progress = !Get<bool>(vm, "quiet");
  o.options_text = DescribeOptions(vm);
  const RunSummary s = Train(o, comm);
  if (comm.rank() != 0) return 0;

  std::string chosen;
  for (const auto& [name, n] : s.chosen) chosen += (chosen.empty() ? "" : ", ") + name + " " + std::to_string(n);
  std::printf("manymodels train: run %s\n", s.run_id.c_str());
  std::printf("  models       %lld (from %lld series), failed %lld, with a note %lld\n",
              static_cast<long long>(s.models), static_cast<long long>(s.source_series),
              static_cast<long long>(s.failed), static_cast<long long>(s.with_notes));
  std::printf("  chosen       %s\n", chosen.c_str());
  std::printf("  time         %.2f s (%.0f models/s) on %zu rank(s)\n", s.seconds,
              static_cast<double>(s.models) / std::max(s.seconds, 1e-9), s.ranks.size());
  std::printf("  %-4s  %-16s  %-28s  %-4s  %-8s  %-8s  %s\n", "rank", "host", "threads given -> used", "cpus",
              "models", "fit s", "peak MiB");
  for (const auto& r : s.ranks) {
    const std::string given =
        r.threads_given > 0 ? std::to_string(r.threads_given) + " (" + r.thread_source + ")" : "- (affinity)";
    std::printf("  %-4d  %-16s  %-28s  %-4d  %-8lld  %-8.2f  %.0f\n", r.rank, r.host.c_str(),
                (given + " -> " + std::to_string(r.threads_used)).c_str(), r.cpus_in_mask,
                static_cast<long long>(r.groups), r.fit_seconds, r.peak_rss_mb);
    if (!r.thread_warning.empty()) std::fprintf(stderr, "warning: rank %d: %s\n", r.rank, r.thread_warning.c_str());
  }
  std::printf("  registry     %s\n  predictions  %s\n", o.registry.c_str(), o.predictions.c_str());
  std::fflush(stdout);
  return 0;
}

namespace {

const char* const kMetricNames[] = {"mae", "rmse", "mape", "smape", "mase"};

std::vector<double> MetricValues(const Metrics& m) { return {m.mae, m.rmse, m.mape, m.smape, m.mase}; }

}  // namespace

int RunRegistryList(const po::variables_map& vm) {
  const RegistryTable t = ReadRegistry(Get<std::string>(vm, "registry"), /*load_params=*/false);
  const std::string format = Get<std::string>(vm, "format");
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
    out = rows.dump(1) + "\n";
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
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int RunRegistryShow(const po::variables_map& vm) {
  const RegistryTable t = ReadRegistry(Get<std::string>(vm, "registry"));
  // --key store=12,item=5: every key column must be named once.
  std::vector<std::string> want(t.keys.columns.size());
  std::vector<bool> seen(want.size(), false);
  for (const auto& part : SplitList(Get<std::string>(vm, "key"))) {
    const auto eq = part.find('=');
    const std::string name = part.substr(0, eq);
    size_t c = 0;
    while (c < t.keys.columns.size() && t.keys.columns[c].name != name) ++c;
    if (eq == std::string::npos || c == t.keys.columns.size())
      throw po::error("--key: '" + part + "' is not COLUMN=VALUE for a key column of this registry");
    want[c] = part.substr(eq + 1);
    seen[c] = true;
  }
  for (size_t c = 0; c < seen.size(); ++c)
    if (!seen[c]) throw po::error("--key: no value for key column '" + t.keys.columns[c].name + "'");
  for (size_t i = 0; i < t.rows.size(); ++i) {
    bool match = true;
    for (size_t c = 0; c < want.size() && match; ++c) match = t.keys.columns[c].Text(i) == want[c];
    if (!match) continue;
    const ModelRecord& r = t.rows[i];
    std::printf("key          %s\nmodel        %s\nmethod       %s\nversion      %s\nstatus       %s\n",
                t.keys.Describe(i).c_str(), r.model.c_str(), r.method.c_str(), r.version.c_str(), r.status.c_str());
    const auto m = MetricValues(r.metrics);
    for (size_t k = 0; k < 5; ++k) std::printf("%-12s %s\n", kMetricNames[k], Fixed(m[k], 4).c_str());
    std::printf("n_obs        %lld\nlast period  %s\n", static_cast<long long>(r.n_obs),
                FormatPeriod(t.meta.frequency, r.last_period, t.meta.weekly_anchor).c_str());
    if (!r.params.empty()) std::printf("parameters   %s\n", LoadModel(r.params)->Describe().c_str());
    std::printf("note         %s\n", r.note.c_str());
    return 0;
  }
  std::fprintf(stderr, "manymodels registry show: no model with key %s\n", Get<std::string>(vm, "key").c_str());
  return 1;
}

int RunPredictionsExport(const po::variables_map& vm) {
  const std::string format = Get<std::string>(vm, "format");
  if (format != "csv") throw po::error("--format: '" + format + "' is not csv");
  const PredictionsTable t = ReadPredictions(Get<std::string>(vm, "predictions"));
  std::string out;
  for (const auto& name : t.keys.Names()) AppendCsvField(&out, name), out += ',';
  out += "step,time,forecast,lo80,hi80,lo95,hi95,model\n";
  std::vector<std::string> key_text(t.keys.columns.size());
  for (size_t s = 0; s < t.keys.size(); ++s) {
    std::string prefix;
    for (const auto& col : t.keys.columns) AppendCsvField(&prefix, col.Text(s)), prefix += ',';
    std::string model;
    AppendCsvField(&model, t.model[s]);
    for (auto r = static_cast<size_t>(t.offsets[s]); r < static_cast<size_t>(t.offsets[s + 1]); ++r) {
      out += prefix;
      out += std::to_string(t.step[r]);
      out += ',';
      out += FormatPeriod(t.meta.frequency, t.period[r], t.meta.weekly_anchor);
      for (double v : {t.forecast[r], t.lo80[r], t.hi80[r], t.lo95[r], t.hi95[r]}) {
        out += ',';
        AppendNumber(&out, v);
      }
      out += ',';
      out += model;
      out += '\n';
    }
  }
  Emit(vm, out);
  return 0;
}

}  // namespace mm::app
