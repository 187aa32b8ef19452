#include "manymodels/parallel/score.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>

#include "manymodels/core/model.h"
#include "manymodels/core/update.h"
#include "manymodels/io/lake.h"
#include "manymodels/io/predictions.h"
#include "manymodels/io/registry.h"
#include "manymodels/parallel/driver.h"
#include "manymodels/parallel/progress.h"

namespace mm {
namespace {

constexpr size_t kListed = 5;  // keys listed per kind in the summary

// One key's forecast, as sent to rank 0.
struct KeyOutput {
  std::string model;
  int64_t last_period = 0;  // the forecast origin: the last period the model has seen
  Forecast forecast;
  uint8_t outcome = CurrentModel::kUpdated;
  int64_t new_periods = 0;
  std::string note;  // why the update or the load failed
};

void PutOutput(ByteWriter* w, const KeyOutput& o) {
  w->PutString(o.model);
  w->PutI64(o.last_period);
  for (const auto* v : {&o.forecast.mean, &o.forecast.lo80, &o.forecast.hi80, &o.forecast.lo95, &o.forecast.hi95})
    w->PutF64s(*v);
  w->PutU8(o.outcome);
  w->PutI64(o.new_periods);
  w->PutString(o.note);
}

KeyOutput GetOutput(ByteReader* rd) {
  KeyOutput o;
  o.model = rd->GetString();
  o.last_period = rd->GetI64();
  for (auto* v : {&o.forecast.mean, &o.forecast.lo80, &o.forecast.hi80, &o.forecast.lo95, &o.forecast.hi95})
    *v = rd->GetF64s();
  o.outcome = rd->GetU8();
  o.new_periods = rd->GetI64();
  o.note = rd->GetString();
  return o;
}

void Listed(std::vector<std::string>* list, const std::string& text) {
  if (list->size() < kListed) list->push_back(text);
}

// Rank 0's writer of forecasts into the predictions file (on BatchWriter's thread).
class ForecastSink {
 public:
  ForecastSink(const ScoreOptions& opt, const KeyTable& keys, const TableMeta& meta, const Provenance& prov,
               ScoreSummary* summary)
      : keys_(keys),
        predictions_(opt.predictions, keys, meta, prov),
        summary_(summary),
        progress_("score", static_cast<int64_t>(keys.size()), opt.progress,
                  std::chrono::milliseconds(static_cast<int64_t>(opt.progress_every * 1000))),
        writer_([this](size_t first, std::vector<KeyOutput> outs) { WriteNow(first, std::move(outs)); }) {}

  void Write(size_t first, std::vector<KeyOutput> outs) { writer_.Write(first, std::move(outs)); }

  bool Accept(const std::vector<uint8_t>& bytes, int source) {
    return AcceptMessage(bytes, source, &summary_->ranks, &GetOutput, writer_);
  }

  int64_t Drain() {
    writer_.Drain();
    return done_;
  }

  void Commit(int ranks, const std::string& production) {
    Drain();
    writer_.Stop();
    progress_.Finish();
    predictions_.root().SetAttr("ranks", static_cast<int64_t>(ranks));
    predictions_.root().SetAttr("production", AbsolutePath(production));
    predictions_.Commit();
  }
  double write_seconds() const { return writer_.write_seconds(); }
  double wait_seconds() const { return writer_.wait_seconds(); }

 private:
  void WriteNow(size_t first, std::vector<KeyOutput> outs) {
    std::vector<SeriesForecast> rows(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      KeyOutput& o = outs[i];
      rows[i] = {o.model, o.last_period, std::move(o.forecast)};
      const std::string key = keys_.Describe(first + i);
      if (o.outcome == CurrentModel::kUpdated) {
        ++summary_->updated;
        summary_->new_periods += o.new_periods;
      } else if (o.outcome == CurrentModel::kAsSaved) {
        ++summary_->as_saved;
        Listed(&summary_->as_saved_keys, key + " (" + o.note + ")");
      } else {
        ++summary_->failed;
        Listed(&summary_->failed_keys, key + " (" + o.note + ")");
      }
    }
    predictions_.Write(first, rows);
    done_ += static_cast<int64_t>(outs.size());
    progress_.Update(done_);
  }

  const KeyTable& keys_;
  PredictionsWriter predictions_;
  ScoreSummary* summary_;  // counts written by the writer thread, read after Drain
  Progress progress_;
  int64_t done_ = 0;
  BatchWriter<KeyOutput> writer_;  // last: its thread starts when everything above exists, stops first
};

// The forecast of one key: the model brought up to the lake (values after its last period) and forecasting.
// cols[0] is the target, cols[1 + c] covariate c, from period `start` on (the lake's values from the model's
// last period + 1, or from the series' start if that is later).
KeyOutput ScoreKey(const ModelRecord& rec, const std::vector<uint8_t>& params, int64_t start,
                   const std::vector<std::vector<double>*>& cols, const std::vector<std::string>& covariate_names,
                   int horizon) {
  std::vector<std::span<const double>> columns;
  for (const auto* col : cols) columns.emplace_back(*col);
  const CurrentModel current = UpToDate(params, rec.last_period, start, columns, covariate_names, horizon);
  KeyOutput out;
  out.model = rec.model;
  out.last_period = current.last_period;
  out.forecast = current.Predict(horizon);
  out.outcome = current.outcome;
  out.new_periods = current.new_periods;
  out.note = current.note;
  return out;
}

}  // namespace

ScoreSummary Score(const ScoreOptions& opt, Communicator& comm,
                   const std::function<void(const ScoreSummary&)>& after_write) {
  const auto start = DriverClock::now();
  if (opt.horizon < 1) throw std::invalid_argument("--horizon must be at least 1");
  ScoreSummary summary;
  LakeReader lake(opt.lake);
  const LakeIndex& ix = lake.index();
  std::unique_ptr<RegistryReader> production;
  {
    std::lock_guard<std::mutex> hdf5(h5::Mutex());
    production = std::make_unique<RegistryReader>(opt.production);
  }
  std::vector<size_t> covariates(ix.covariates.size());
  for (size_t c = 0; c < covariates.size(); ++c) covariates[c] = c;

  // 1. Rank 0 matches the production keys with the lake's series and shards the matched keys by cost.
  KeyTable out_keys;  // rank 0: the predictions' keys
  const DriverPlan plan = BroadcastPlan(comm, [&](DriverPlan* made) {
    CheckKeysMatchLake(*production, opt.production, ix, opt.lake);
    const ProductionIndex px = production->ReadProductionIndex();
    const KeyTable& pk = px.keys;
    const size_t n_prod = px.rows.size();
    summary.production_keys = static_cast<int64_t>(n_prod);
    // Merge walk: both sorted by key.
    std::vector<int64_t> prod_rows, series;
    std::vector<double> costs;
    int64_t lake_last = std::numeric_limits<int64_t>::min();
    for (size_t s = 0; s < ix.num_series(); ++s) lake_last = std::max(lake_last, ix.start[s] + ix.length(s) - 1);
    out_keys = ix.keys.EmptyLike();
    size_t p = 0, s = 0;
    while (p < n_prod || s < ix.num_series()) {
      const int cmp = p == n_prod ? 1 : s == ix.num_series() ? -1 : pk.Compare(p, ix.keys, s);
      if (cmp < 0) {
        ++summary.not_in_lake;
        Listed(&summary.not_in_lake_keys, pk.Describe(p));
        ++p;
      } else if (cmp > 0) {
        ++summary.not_in_production;
        Listed(&summary.not_in_production_keys, ix.keys.Describe(s));
        ++s;
      } else {
        prod_rows.push_back(static_cast<int64_t>(px.rows[p]));
        series.push_back(static_cast<int64_t>(s));
        out_keys.Append(ix.keys, s);
        summary.versions.push_back(px.version[p]);
        summary.newest_version = std::max(summary.newest_version, px.version[p]);
        const int64_t end = ix.start[s] + ix.length(s) - 1;
        costs.push_back(static_cast<double>(std::max<int64_t>(0, end - px.last_period[p]) + opt.horizon) + 1.0);
        ++p, ++s;
      }
    }
    made->shards = PlanShards(costs, comm.size());
    made->todo = {{0, prod_rows.size()}};
    made->run_id = !opt.run_id.empty() ? opt.run_id
                   : (summary.newest_version.empty() ? std::string("none") : summary.newest_version) + "@" +
                         (ix.num_series() ? FormatPeriod(ix.frequency, lake_last, ix.weekly_anchor) : "empty");
    made->columns = {prod_rows, series};
  });
  const std::vector<int64_t>& prod_rows = plan.columns.at(0);
  const std::vector<int64_t>& series = plan.columns.at(1);
  summary.run_id = plan.run_id;
  summary.schedule = opt.schedule;
  summary.scored = static_cast<int64_t>(prod_rows.size());
  summary.lake_series = static_cast<int64_t>(ix.num_series());

  RankReport me = StartReport(comm, opt.threads);

  // 2. Rank 0 opens the predictions file; forecasts from every rank land in their final rows.
  std::unique_ptr<ForecastSink> sink;
  if (comm.rank() == 0) {
    TableMeta meta{ix.frequency, ix.weekly_anchor, production->meta().season_lengths, opt.horizon, opt.lake};
    Provenance prov{"score", opt.options_text, plan.run_id, opt.command_line,
                    {{"lake", AbsolutePath(opt.lake)}, {"production", AbsolutePath(opt.production)}}};
    summary.ranks.resize(static_cast<size_t>(comm.size()));
    try {
      std::lock_guard<std::mutex> hdf5(h5::Mutex());
      sink = std::make_unique<ForecastSink>(opt, out_keys, meta, prov, &summary);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "manymodels score: %s\n", e.what());
      comm.Abort(1);
    }
  }
  // 3. This rank's keys, a batch at a time, as the schedule hands them out.
  WorkSource work(comm, opt.schedule, plan.todo, plan.shards, static_cast<size_t>(opt.batch));
  Gatherer<ForecastSink> gather(comm, sink.get(), work);
  const auto work_start = DriverClock::now();
  for (ShardRange piece; work.Next(&piece);) {
    const size_t b = piece.begin, e = piece.end;
    const auto read_start = DriverClock::now();
    // The production rows' metadata (one read of the span they lie in), and only their models' bytes.
    const auto row0 = static_cast<size_t>(prod_rows[b]);
    std::vector<ModelRecord> records;
    std::vector<std::vector<uint8_t>> params;
    {
      std::lock_guard<std::mutex> hdf5(h5::Mutex());
      records = production->ReadRows(row0, static_cast<size_t>(prod_rows[e - 1]) + 1 - row0, false);
      params =
          production->ReadParams(std::vector<size_t>(prod_rows.begin() + static_cast<std::ptrdiff_t>(b),
                                                     prod_rows.begin() + static_cast<std::ptrdiff_t>(e)));
    }
    auto record = [&](size_t i) -> const ModelRecord& {
      return records[static_cast<size_t>(prod_rows[i]) - row0];
    };
    // Of each series, only the periods its model has not seen (and the future covariates past them).
    const std::vector<int64_t> wanted(series.begin() + static_cast<std::ptrdiff_t>(b),
                                      series.begin() + static_cast<std::ptrdiff_t>(e));
    std::vector<int64_t> from(e - b);
    for (size_t i = b; i < e; ++i) from[i - b] = record(i).last_period + 1;
    auto columns = ReadSeriesRuns(lake, wanted, covariates, from);
    me.read_seconds += Since(read_start);

    std::vector<KeyOutput> outs(e - b);
    const auto n = static_cast<int64_t>(e - b);
    const auto fit_start = DriverClock::now();
    const double gather_before = gather.seconds();
#pragma omp parallel for schedule(dynamic, 1) num_threads(me.threads_used)
    for (int64_t i = 0; i < n; ++i) {
      if (omp_get_thread_num() == 0) gather.Poll();  // rank 0's main thread takes in other ranks' messages
      const auto k = static_cast<size_t>(i);
      std::vector<std::vector<double>*> cols;
      for (auto& col : columns) cols.push_back(&col[k]);
      outs[k] =
          ScoreKey(record(b + k), params[k], std::max(from[k], ix.start[static_cast<size_t>(series[b + k])]),
                   cols, ix.covariates, opt.horizon);
    }
    me.fit_seconds += Since(fit_start) - (gather.seconds() - gather_before);
    me.groups += n;
    gather.Deliver(b, std::move(outs), &PutOutput);
  }
  me.busy_seconds = Since(work_start) - work.wait_seconds();
  me.peak_rss_mb = PeakRssMb();

  // 4. Rank 0 takes in the rest, writes the file, and runs after_write; the others report and wait.
  FinishRun("score", comm, sink, gather, &me, [&] {
    if (const int64_t done = gather.Finish(&me); done != summary.scored)
      throw std::runtime_error("only " + std::to_string(done) + " of " + std::to_string(summary.scored) +
                               " forecasts arrived");
    summary.ranks[0] = me;
    TimedCommit(*sink, &summary.ranks[0], [&] { sink->Commit(comm.size(), opt.production); });
    sink.reset();
    summary.seconds = Since(start);
    if (after_write) after_write(summary);
    summary.ranks[0].peak_rss_mb = PeakRssMb();
  });
  summary.seconds = Since(start);
  return summary;
}

}  // namespace mm
