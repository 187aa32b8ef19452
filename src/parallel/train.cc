#include "manymodels/parallel/train.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <stdexcept>

#include "manymodels/core/ensemble.h"
#include "manymodels/core/pooled.h"
#include "manymodels/core/select.h"
#include "manymodels/core/series.h"
#include "manymodels/io/files.h"
#include "manymodels/io/journal.h"
#include "manymodels/io/lake.h"
#include "manymodels/io/predictions.h"
#include "manymodels/io/registry.h"
#include "manymodels/parallel/driver.h"
#include "manymodels/parallel/pools.h"
#include "manymodels/parallel/progress.h"
#include "manymodels/parallel/shard.h"
#include "manymodels/parallel/threads.h"
#include "manymodels/version.h"

namespace mm {
namespace {

using Clock = DriverClock;

// ------------------------------------------------------------------ results, as sent to rank 0
struct GroupOutput {
  SeriesResult result;
  int64_t last_period = 0;
};

void PutResult(ByteWriter* w, const GroupOutput& o) {
  const SeriesResult& r = o.result;
  w->PutU8(r.failed ? 1 : 0);
  w->PutString(r.method);
  w->PutString(r.label);
  for (double m : {r.metrics.mae, r.metrics.rmse, r.metrics.mape, r.metrics.smape, r.metrics.mase}) w->PutF64(m);
  w->PutI64(r.n_obs);
  w->PutString(r.note);
  w->PutBytes(r.model);
  for (const auto* v : {&r.forecast.mean, &r.forecast.lo80, &r.forecast.hi80, &r.forecast.lo95, &r.forecast.hi95})
    w->PutF64s(*v);
  w->PutI64(o.last_period);
}

GroupOutput GetResult(ByteReader* rd) {
  GroupOutput o;
  SeriesResult& r = o.result;
  r.failed = rd->GetU8() != 0;
  r.method = rd->GetString();
  r.label = rd->GetString();
  for (double* m : {&r.metrics.mae, &r.metrics.rmse, &r.metrics.mape, &r.metrics.smape, &r.metrics.mase})
    *m = rd->GetF64();
  r.n_obs = rd->GetI64();
  r.note = rd->GetString();
  r.model = rd->GetBytes();
  for (auto* v : {&r.forecast.mean, &r.forecast.lo80, &r.forecast.hi80, &r.forecast.lo95, &r.forecast.hi95})
    *v = rd->GetF64s();
  o.last_period = rd->GetI64();
  return o;
}

// ------------------------------------------------------------------ rank 0's writer of results
// Rank 0 writes every result into the registry and the predictions file, on a writer thread (BatchWriter), so
// that rank 0's main thread goes on fitting and taking in other ranks' batches instead of waiting on HDF5.
class ResultSink {
 public:
  ResultSink(const TrainOptions& opt, const KeyTable& keys, const TableMeta& meta, const Provenance& prov,
             const std::string& run_id, RunSummary* summary, int64_t total)
      : registry_(opt.registry, keys, meta, prov),
        predictions_(opt.predictions, keys, meta, prov),
        run_id_(run_id),
        summary_(summary),
        progress_("train", total, opt.progress,
                  std::chrono::milliseconds(static_cast<int64_t>(opt.progress_every * 1000))),
        writer_([this](size_t first, std::vector<GroupOutput> outs) { WriteNow(first, std::move(outs)); }) {}

  // Main thread: hands a batch to the writer (see BatchWriter::Write).
  void Write(size_t first, std::vector<GroupOutput> outs) { writer_.Write(first, std::move(outs)); }

  // Takes one message from another rank; returns true when it was that rank's last.
  bool Accept(const std::vector<uint8_t>& bytes, int source) {
    return AcceptMessage(bytes, source, &summary_->ranks, &GetResult, writer_);
  }

  // Main thread: waits until every batch handed over is written; returns how many results that makes.
  int64_t Drain() {
    writer_.Drain();
    return done_;
  }

  // Closes both files (every write checked), records what was resolved at run time, and renames both into
  // place together.
  void Commit(const std::string& resolved, int ranks) {
    Drain();
    writer_.Stop();
    progress_.Finish();
    for (const h5::Location* f : {&registry_.root(), &predictions_.root()}) {
      f->SetAttr("resolved", resolved);
      f->SetAttr("ranks", static_cast<int64_t>(ranks));
    }
    registry_.root().SetAttr("predictions", AbsolutePath(predictions_.output().path()));
    predictions_.root().SetAttr("registry", AbsolutePath(registry_.output().path()));
    registry_.Finish();
    predictions_.Finish();
    CommitTogether({&registry_.output(), &predictions_.output()});
  }
  double write_seconds() const { return writer_.write_seconds(); }  // the writer thread's busy time
  double wait_seconds() const { return writer_.wait_seconds(); }    // the main thread's time waiting on it

 private:
  // On the writer thread, with h5::Mutex() held.
  void WriteNow(size_t first, std::vector<GroupOutput> outs) {
    std::vector<ModelRecord> records(outs.size());
    std::vector<SeriesForecast> forecasts(outs.size());
    for (size_t i = 0; i < outs.size(); ++i) {
      SeriesResult& r = outs[i].result;
      ModelRecord& m = records[i];
      m.model = r.failed ? "" : r.label;
      m.method = r.method;
      m.version = run_id_;
      m.status = r.failed ? "failed" : "staged";
      m.metrics = r.metrics;
      m.n_obs = r.n_obs;
      m.last_period = outs[i].last_period;
      m.params = std::move(r.model);
      forecasts[i] = {m.model, outs[i].last_period, std::move(r.forecast)};
      summary_->failed += r.failed ? 1 : 0;
      summary_->with_notes += r.note.empty() ? 0 : 1;
      m.note = std::move(r.note);
      ++summary_->chosen[ModelFamily(r.method, r.label, r.failed)];
    }
    registry_.Write(first, records);
    predictions_.Write(first, forecasts);
    done_ += static_cast<int64_t>(outs.size());
    progress_.Update(done_);
  }

  RegistryWriter registry_;
  PredictionsWriter predictions_;
  std::string run_id_;
  RunSummary* summary_;  // counts written by the writer thread, read after Drain
  Progress progress_;
  int64_t done_ = 0;
  BatchWriter<GroupOutput> writer_;  // last: its thread starts when everything above exists, stops first
};

// The key text of group g (the partition columns of its first member), for seeds.
std::string GroupKeyText(const KeyTable& lake_keys, const std::vector<size_t>& by_cols, int64_t first_member) {
  std::string s;
  for (size_t c : by_cols)
    s += (s.empty() ? "" : ", ") + lake_keys.columns[c].name + "=" +
         lake_keys.columns[c].Text(static_cast<size_t>(first_member));
  return s;
}

// What decides a run's results, for its journal: a resumed run must match it (the layout, --batch, --schedule
// and --threads do not change results, so they may differ).
Fingerprint TrainFingerprint(const TrainOptions& opt, size_t groups) {
  auto list = [](const auto& items, auto text) {
    std::string s;
    for (const auto& x : items) s += (s.empty() ? "" : ",") + text(x);
    return s;
  };
  return {{"program",
           std::string("manymodels ") + MANYMODELS_VERSION + " (commit " + MANYMODELS_GIT_COMMIT + ")"},
          {"lake", AbsolutePath(opt.lake)},
          {"lake file", FileStamp(opt.lake)},
          {"models in the lake", std::to_string(groups)},
          {"--horizon", std::to_string(opt.horizon)},
          {"--models", opt.models},
          {"--season-length", list(opt.season_lengths, [](double m) { return FormatParameter(m); })},
          {"--partition-by", list(opt.partition_by, [](const std::string& c) { return c; })},
          {"--pool-by", list(opt.pool_by, [](const std::string& c) { return c; })},
          {"--judge-by", list(opt.judge_by, [](const std::string& c) { return c; })},
          {"--covariates", opt.covariates},
          {"--backtest-windows", std::to_string(opt.backtest_windows)},
          {"--ensemble", opt.ensemble},
          {"--ensemble-size", std::to_string(opt.ensemble_size)},
          {"--max-history", opt.max_history < 0    ? "auto"
                            : opt.max_history == 0 ? "all"
                                                   : std::to_string(opt.max_history)},
          {"--seed", std::to_string(opt.seed)}};
}

// Rank 0, planning: the journal this run appends to. On --resume with a journal whose fingerprint is this
// run's: its run id, the next attempt, the records to take in (each a batch of groups; one that overlaps an
// earlier record is left out) and the groups they hold. Otherwise a new journal (an earlier one removed).
struct JournalStart {
  std::string run_id;
  int attempt = 1;
  std::vector<JournalRecord> replay;
  std::vector<bool> done;  // by group
};

JournalStart StartJournal(const TrainOptions& opt, const std::string& dir, size_t groups, RunSummary* summary) {
  JournalStart start;
  start.done.assign(groups, false);
  const Fingerprint now = TrainFingerprint(opt, groups);
  std::string old_run;
  Fingerprint old;
  const bool found = ReadJournalRun(dir, &old_run, &old);
  if (opt.resume && found) {
    if (const std::string diff = FingerprintDifference(old, now); !diff.empty())
      throw std::runtime_error("--resume: the journal " + dir + " is of another run: " + diff +
                               " (resume with the lake, program and options it was made with, or run without "
                               "--resume to start afresh)");
    if (!opt.run_id.empty() && opt.run_id != old_run)
      throw std::runtime_error("--resume: --run-id " + opt.run_id + ", but the journal " + dir + " is of run " + old_run);
    const JournalScan scan = ScanJournal(dir, [&](const JournalRecord& record, const std::vector<uint8_t>& payload) {
      ByteReader rd(payload);
      const auto where = [&] { return record.path + " at byte " + std::to_string(record.offset); };
      if (rd.GetU8() != kBatchMessage) throw std::runtime_error(where() + ": not a batch of results");
      const uint64_t first = rd.GetU64(), count = rd.GetU64();
      if (count == 0 || first > groups || count > groups - first)
        throw std::runtime_error(where() + ": models " + std::to_string(first) + " to " + std::to_string(first + count) +
                                 " of " + std::to_string(groups));
      for (uint64_t g = first; g < first + count; ++g)
        if (start.done[g]) return;  // done twice (no run writes that): the first record has them
      for (uint64_t g = first; g < first + count; ++g) start.done[g] = true;
      start.replay.push_back(record);
      summary->from_journal += static_cast<int64_t>(count);
    });
    start.run_id = old_run;
    start.attempt = scan.next_attempt;
    summary->journal_records = static_cast<int64_t>(start.replay.size());
    summary->journal_dropped = scan.dropped;
    summary->journal_note = "resumed run " + old_run + " (attempt " + std::to_string(start.attempt) + ")";
    return start;
  }
  start.run_id = opt.run_id.empty() ? NewRunId() : opt.run_id;
  summary->journal_note = found ? "a fresh run: removed the journal of run " + old_run + " (--resume takes one up)"
                          : opt.resume ? "a fresh run: no journal to resume"
                                       : "a fresh run";
  CreateJournal(dir, start.run_id, now);
  return start;
}

}  // namespace

std::string PoolByProblem(const TrainOptions& opt) {
  if (opt.pool_by.empty() && opt.judge_by.empty()) return {};
  bool automatic = false;
  try {
    automatic = opt.models != "pooled" && ResolveModels(opt.models).automatic;
  } catch (const std::invalid_argument&) {
    return {};  // an unknown model: ResolveModels says so where the models are chosen
  }
  if (!opt.judge_by.empty()) {
    if (!opt.pool_by.empty())
      return "--judge-by and --pool-by cannot be combined (--pool-by judges with its groups already)";
    if (!automatic || opt.ensemble != "auto")
      return "--judge-by judges --models auto's members by their validation evidence: it needs --models auto "
             "and --ensemble auto (not '" +
             opt.models + "', '" + opt.ensemble + "')";
    if (!opt.partition_by.empty()) return "--judge-by and --partition-by cannot be combined";
    return {};
  }
  if (opt.models != "pooled" && !automatic)
    return "--pool-by fits pooled models: give --models pooled, or auto to weigh them in its pool (not '" +
           opt.models + "')";
  if (automatic && opt.ensemble != "auto")
    return "--pool-by with --models auto weighs the pooled member by the validation evidence: it needs "
           "--ensemble "
           "auto (not '" +
           opt.ensemble + "')";
  if (!opt.partition_by.empty()) return "--pool-by and --partition-by cannot be combined";
  return {};
}

std::string NewRunId() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", std::gmtime(&now));
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "-%04x", rd() & 0xffff);
  return std::string(buf) + suffix;
}

RunSummary Train(const TrainOptions& opt, Communicator& comm) {
  const auto start = Clock::now();
  RunSummary summary;
  LakeReader lake(opt.lake);
  const LakeIndex& ix = lake.index();

  FitContext context;
  context.horizon = opt.horizon;
  context.season_lengths = opt.season_lengths.empty() ? ix.season_lengths : opt.season_lengths;
  const ModelChoice choice = ResolveModels(opt.models);
  SelectOptions select;
  select.automatic = choice.automatic;
  select.candidates = choice.methods;
  select.context = context;
  select.backtest_windows = opt.backtest_windows;
  if (opt.ensemble != "auto" && opt.ensemble != "none" && opt.ensemble != "mean" && opt.ensemble != "median")
    throw std::invalid_argument("--ensemble: '" + opt.ensemble + "' is not auto, none, mean or median");
  // auto: `--models auto` weighs its pool by the validation evidence (a series too short to validate gets the
  // median of its pool); a list of models picks the best.
  select.weigh_evidence = opt.ensemble == "auto" && choice.automatic;
  select.ensemble = opt.ensemble == "auto" ? choice.automatic : opt.ensemble != "none";
  select.combination = opt.ensemble == "mean" ? Combination::kMean : Combination::kMedian;
  select.ensemble_size = opt.ensemble_size;
  select.max_history = opt.max_history < 0 ? DefaultMaxHistory(context.season_lengths)
                                           : static_cast<size_t>(opt.max_history);
  // Covariates the models see: the lake's, all or those named.
  std::vector<size_t> covariates;
  for (size_t c = 0; c < ix.covariates.size(); ++c)
    if (opt.covariates == "all" ||
        ("," + opt.covariates + ",").find("," + ix.covariates[c] + ",") != std::string::npos)
      covariates.push_back(c);
  if (opt.horizon < 1) throw std::invalid_argument("--horizon must be at least 1");
  int64_t longest = 0;
  for (size_t i = 0; i < ix.num_series(); ++i) longest = std::max(longest, ix.length(i));
  if (opt.horizon >= longest && ix.num_series() > 0)
    throw std::invalid_argument("--horizon " + std::to_string(opt.horizon) + " is not shorter than the longest series in " +
                                opt.lake + " (" + std::to_string(longest) + " periods): nothing would be left to fit");
  const Grouping groups = GroupSeries(ix.keys, opt.partition_by);  // every rank: cheap, and it checks the names
  // --pool-by: each series' model comes from its group's joint fit, or (auto) the joint fit joins its pool
  // and its members are judged with the group's; --judge-by: judged so without a joint fit (every rank: it
  // checks the names).
  if (const std::string problem = PoolByProblem(opt); !problem.empty()) throw std::invalid_argument(problem);
  std::unique_ptr<PoolFitter> pools;
  if (!opt.pool_by.empty() || !opt.judge_by.empty()) {
    PoolOptions po;
    po.season_lengths = context.season_lengths;
    po.horizon = opt.horizon;
    po.max_history = static_cast<int64_t>(select.max_history);
    // --models auto: the pooled member of each series' pool, validated on auto's windows (--judge-by: none).
    const bool joint = !opt.pool_by.empty();
    pools = std::make_unique<PoolFitter>(lake, joint ? opt.pool_by : opt.judge_by, covariates, po,
                                         choice.automatic ? ValidationWindows(select) : 0, joint);
  }

  // 1. Rank 0 takes up the journal (--resume) or starts one, and shards the groups left by estimated cost (points
  // to fit x the candidates' relative cost); the dynamic schedule hands them out in that order.
  summary.journal = JournalDir(opt.registry);
  JournalStart journal;  // rank 0
  const DriverPlan plan = BroadcastPlan(comm, [&](DriverPlan* made) {
    // auto's pool costs about what ETS does (it dominates every pool but the intermittent one).
    double method_cost = choice.automatic ? FindMethod("ets")->RelativeCost() : 0.0;
    for (const Method* m : choice.methods) method_cost += m->RelativeCost();
    std::vector<double> costs(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
      int64_t points = 0;
      for (int64_t k = groups.member_offsets[g]; k < groups.member_offsets[g + 1]; ++k)
        points += ix.length(static_cast<size_t>(groups.members[k]));
      if (select.max_history > 0) points = std::min<int64_t>(points, static_cast<int64_t>(select.max_history));
      costs[g] = static_cast<double>(points) * method_cost + 1.0;
    }
    journal = StartJournal(opt, summary.journal, groups.size(), &summary);
    for (size_t g = 0; g < groups.size(); ++g)
      if (journal.done[g]) costs[g] = 0;
    made->shards = PlanShards(costs, comm.size());
    made->todo = NotDone(journal.done);
    made->run_id = journal.run_id;
    made->columns = {groups.member_offsets, groups.members, {journal.attempt}};
  });
  const std::vector<int64_t>& member_offsets = plan.columns.at(0);
  const std::vector<int64_t>& members = plan.columns.at(1);
  const auto attempt = static_cast<int>(plan.columns.at(2).at(0));
  summary.run_id = plan.run_id;
  summary.models = static_cast<int64_t>(groups.size());
  summary.source_series = static_cast<int64_t>(ix.num_series());
  summary.lake_rows = ix.offsets.empty() ? 0 : ix.offsets.back();
  summary.schedule = opt.schedule;

  std::vector<size_t> by_cols;
  {
    const auto names = ix.keys.Names();
    for (const auto& c : groups.keys.Names())
      by_cols.push_back(static_cast<size_t>(std::find(names.begin(), names.end(), c) - names.begin()));
  }

  // What FitSeries is given for a series (`key_member`: the member whose key seeds it): the history without
  // its leading and trailing gaps, the covariates over it and the horizon after it (NaN past what the lake
  // knows), owned here (the options point into them).
  struct SeriesInput {
    std::span<const double> y;
    int64_t last_period = 0;
    std::vector<std::vector<double>> x;
    SelectOptions options;
  };
  auto series_input = [&](int64_t key_member, const PeriodSeries& series, const std::vector<PeriodSeries>& xs,
                          FittedMember pooled) {
    SeriesInput in;
    const IndexRange obs = ObservedRange(series.values);
    in.y = std::span<const double>(series.values).subspan(obs.begin, obs.size());
    in.last_period = LastObservedPeriod(series.start, series.values);
    in.options = select;
    in.options.context.seed = SeriesSeed(opt.seed, GroupKeyText(ix.keys, by_cols, key_member));
    in.x.resize(covariates.size());
    for (size_t c = 0; c < covariates.size(); ++c) {
      in.x[c].assign(obs.size() + static_cast<size_t>(opt.horizon), std::numeric_limits<double>::quiet_NaN());
      for (size_t t = 0; t < in.x[c].size() && obs.begin + t < xs[c].values.size(); ++t)
        in.x[c][t] = xs[c].values[obs.begin + t];
      in.options.context.covariates.emplace_back(in.x[c]);
      in.options.context.covariate_names.push_back(ix.covariates[covariates[c]]);
    }
    if (pooled.method) in.options.fitted_members = {std::move(pooled)};
    return in;
  };
  // --pool-by with auto: a series validated with its pooled member, by its pool (PoolFitter::Prepare).
  const SeriesValidator validate = [&](int64_t s, const PeriodSeries& target,
                                       const std::vector<PeriodSeries>& xs, FittedMember pooled) {
    const SeriesInput in = series_input(s, target, xs, std::move(pooled));
    return ValidateSeries(in.y, in.options);
  };

  // 2. Threads for this rank.
  RankReport me = StartReport(comm, opt.threads);

  // 3. Rank 0 opens the outputs; results from every rank land in their final rows.
  std::unique_ptr<ResultSink> sink;
  if (comm.rank() == 0) {
    TableMeta meta{ix.frequency, ix.weekly_anchor, context.season_lengths, opt.horizon, opt.lake};
    Provenance prov{"train", opt.options_text, plan.run_id, opt.command_line, {{"lake", AbsolutePath(opt.lake)}}};
    summary.ranks.resize(static_cast<size_t>(comm.size()));
    try {
      sink = std::make_unique<ResultSink>(opt, groups.keys, meta, prov, plan.run_id, &summary,
                                          static_cast<int64_t>(groups.size()));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "manymodels train: %s\n", e.what());
      comm.Abort(1);
    }
  }
  // 4. Rank 0 takes in the journal's results (a resumed run). Then each rank fits its groups, a batch at a time,
  // as the schedule hands them out, and journals each batch as it moves on. Asked to stop, a rank finishes the
  // series in hand, delivers the batch's first groups that are all done, and takes no more work.
  auto stopping = [&opt] { return opt.stop && opt.stop->load(std::memory_order_relaxed) != 0; };
  WorkSource work(comm, opt.schedule, plan.todo, plan.shards, static_cast<size_t>(opt.batch));
  JournalWriter journal_writer(summary.journal, attempt, comm.rank());
  Gatherer<ResultSink> gather(comm, sink.get(), work, &journal_writer);
  const auto busy_start = Clock::now();
  if (sink) {
    const auto t0 = Clock::now();
    for (const JournalRecord& record : journal.replay) {
      sink->Accept(ReadJournalRecord(record), 0);
      gather.Poll();
    }
    summary.journal_read_seconds = Since(t0);
    me.read_seconds += summary.journal_read_seconds;
  }
  for (ShardRange piece; work.Next(&piece);) {
    if (stopping()) {
      me.stopped = true;
      work.Stop();  // the next Next ends the loop (after the reply to a request still out, if any)
      continue;
    }
    const size_t b = piece.begin, e = piece.end;
    // Member series of these groups, read as runs of consecutive series (one read for prefix groupings).
    std::vector<int64_t> wanted(members.begin() + member_offsets[b],
                                members.begin() + member_offsets[e]);
    std::sort(wanted.begin(), wanted.end());
    // columns[0] is the target, columns[1 + c] covariate c (of those used), each one vector per wanted series.
    const auto read_start = Clock::now();
    const bool pooled_only = pools && !choice.automatic;  // the models are the pools'
    // With --pool-by the pools read their own (and auto's validations are made with them).
    const auto columns =
        pools ? std::vector<std::vector<std::vector<double>>>{} : ReadSeriesRuns(lake, wanted, covariates);
    me.read_seconds += Since(read_start);
    // Column `col` of group g: the member's own series, or the members' sum (target) or mean (covariates).
    auto group_series = [&](size_t g, size_t col) -> PeriodSeries {
      const int64_t m0 = member_offsets[g], m1 = member_offsets[g + 1];
      std::vector<PeriodSeries> parts;
      for (int64_t k = m0; k < m1; ++k) {
        const auto s = static_cast<size_t>(members[k]);
        const auto w = static_cast<size_t>(std::lower_bound(wanted.begin(), wanted.end(), members[k]) -
                                           wanted.begin());
        parts.push_back({ix.start[s], columns[col][w]});
      }
      if (parts.size() == 1) return std::move(parts[0]);
      return col == 0 ? SumSeries(parts) : MeanSeries(parts);
    };

    std::vector<GroupOutput> outs(e - b);
    std::vector<uint8_t> fitted(e - b, 0);
    const auto n = static_cast<int64_t>(e - b);
    // The groups are the series (no --partition-by): their pools, fitted whole.
    if (pools) pools->Prepare(wanted, me.threads_used, &me.read_seconds, &me.fit_seconds, validate);
    if (pooled_only) {
      for (size_t g = b; g < e; ++g) {
        const PooledSeries& r = pools->Result(members[member_offsets[g]]);
        outs[g - b] = {r.result, r.last_period};
      }
      std::fill(fitted.begin(), fitted.end(), 1);
    }
    const auto fit_start = Clock::now();
    const double gather_before = gather.seconds();
#pragma omp parallel for schedule(dynamic, 1) num_threads(me.threads_used)
    for (int64_t i = 0; i < n; ++i) {
      if (omp_get_thread_num() == 0) gather.Poll();  // rank 0's main thread takes in other ranks' messages
      if (stopping() || pooled_only) continue;
      const size_t g = b + static_cast<size_t>(i);
      const int64_t m0 = member_offsets[g];
      GroupOutput& out = outs[static_cast<size_t>(i)];
      if (pools) {  // validated with its pool (PoolFitter::Prepare): decided with the pool's judgement
        PooledSeries& p = pools->Result(members[m0]);
        out.result = DecideSeries(std::move(p.validation), p.evidence.get());
        out.last_period = p.last_period;
      } else {
        std::vector<PeriodSeries> xs;
        for (size_t c = 0; c < covariates.size(); ++c) xs.push_back(group_series(g, 1 + c));
        const PeriodSeries series = group_series(g, 0);
        const SeriesInput in = series_input(members[m0], series, xs, {});
        out.result = FitSeries(in.y, in.options);
        out.last_period = in.last_period;
      }
      fitted[static_cast<size_t>(i)] = 1;
    }
    me.fit_seconds += Since(fit_start) - (gather.seconds() - gather_before);
    if (stopping()) {
      // A batch is a contiguous run of groups: keep those before the first one left undone.
      outs.resize(static_cast<size_t>(std::find(fitted.begin(), fitted.end(), 0) - fitted.begin()));
      me.stopped = true;
      work.Stop();
    }
    me.groups += static_cast<int64_t>(outs.size());
    if (!outs.empty()) gather.Deliver(b, std::move(outs), &PutResult);
  }
  me.busy_seconds = Since(busy_start) - work.wait_seconds();
  me.peak_rss_mb = PeakRssMb();

  // 5. Rank 0 takes in the rest, then writes the files (not when the run was stopped with models left); the
  // others report and wait for sends to complete.
  FinishRun("train", comm, sink, gather, &me, [&] {
    summary.done = gather.Finish(&me);
    me.peak_rss_mb = PeakRssMb();
    summary.ranks[0] = me;
    if (summary.done != static_cast<int64_t>(groups.size())) {
      bool stopped = false;
      for (const auto& r : summary.ranks) stopped = stopped || r.stopped;
      if (!stopped)
        throw std::runtime_error("only " + std::to_string(summary.done) + " of " +
                                 std::to_string(groups.size()) + " models arrived");
      summary.stopped = true;
      sink.reset();  // removes the temporaries: the outputs are left as they were, the journal holds the rest
    } else {
      std::string used;
      for (const auto& r : summary.ranks) used += (used.empty() ? "" : ",") + std::to_string(r.threads_used);
      std::string cycles;
      for (double m : context.season_lengths) cycles += (cycles.empty() ? "" : ",") + FormatParameter(m);
      summary.resolved = "threads=" + used + "\nmax_history=" + std::to_string(select.max_history) +
                         "\nseason_lengths=" + cycles + "\nensemble=" +
                         (select.weigh_evidence ? "evidence"
                          : select.ensemble ? (select.combination == Combination::kMean ? "mean" : "median")
                                            : "none") +
                         "\nseed=" + std::to_string(opt.seed) + "\n";
      TimedCommit(*sink, &summary.ranks[0], [&] { sink->Commit(summary.resolved, comm.size()); });
      summary.ranks[0].peak_rss_mb = PeakRssMb();
      // The outputs are in place: the journal has served. A journal left behind (it could not be removed)
      // only gives the same outputs again on --resume.
      try {
        RemoveJournal(summary.journal);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "manymodels train: warning: %s\n", e.what());
      }
    }
  });
  summary.seconds = Since(start);
  return summary;
}

}  // namespace mm
