#include "options.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "manymodels/io/bench.h"
#include "manymodels/io/files.h"
#include "manymodels/io/ingest.h"
#include "manymodels/io/promote.h"

namespace mm::app {

po::options_description CommandOptions(const std::string& command) {
  po::options_description d("Options of 'manymodels " + command + "'");
  d.add_options()("help,h", "show this help")("config", po::value<std::string>(),
                                               "job file (INI): common keys at the top, one section per subcommand");
  if (command == "generate") {
    d.add_options()
        ("out", po::value<std::string>()->required(), "output CSV (.csv, or .csv.gz for gzip)")
        ("stores", po::value<int64_t>()->default_value(10), "number of stores")
        ("items", po::value<int64_t>()->default_value(10), "items per store")
        ("length", po::value<int64_t>()->default_value(730), "periods per series")
        ("freq", po::value<std::string>()->default_value("D"), "D (daily) or W (weekly)")
        ("seed", po::value<uint64_t>()->default_value(1), "random seed: same seed, same file")
        ("start", po::value<std::string>()->default_value("2015-01-01"), "first date")
        ("intermittent-share", po::value<double>()->default_value(0.1), "share of mostly-zero items")
        ("missing-share", po::value<double>()->default_value(0.002), "share of rows left out");
  } else if (command == "ingest") {
    d.add_options()
        ("input", po::value<std::string>()->required(), "long CSV, plain or gzip")
        ("keys", po::value<std::string>()->required(), "key columns, comma separated")
        ("time", po::value<std::string>()->required(), "time column: YYYY-MM-DD, datetime or integer period")
        ("target", po::value<std::string>()->required(), "target column")
        ("covariates", po::value<std::string>(), "numeric covariate columns, comma separated")
        ("freq", po::value<std::string>(), "D|W|M|Q|Y|H|N (inferred from the times when absent)")
        ("season-length", po::value<std::string>(), "cycles, e.g. 7,365.25 (default from the frequency)")
        ("out", po::value<std::string>(), "lake file to write (HDF5)")
        ("lake", po::value<std::string>(), "same as --out (the job files' common key)")
        ("append", po::bool_switch(), "add the input's rows to the existing lake --out (new periods, new series, "
                                      "future covariates; known values may be repeated, not changed)")
        ("memory", po::value<std::string>()->default_value("1G"), "memory for the key index and the rows (e.g. "
                                                                   "512M, 4G; at least 64K): rows past it are sorted "
                                                                   "into runs on --tmpdir and merged")
        ("tmpdir", po::value<std::string>(), "folder for the sorted runs (default: the folder of --out)");
  } else if (command == "train") {
    d.add_options()
        ("lake", po::value<std::string>()->required(), "lake file (from ingest)")
        ("horizon", po::value<int>()->required(), "periods to forecast, and to hold out for validation")
        ("registry", po::value<std::string>()->required(), "registry file to write")
        ("predictions", po::value<std::string>()->required(), "predictions file to write")
        ("models", po::value<std::string>()->default_value("auto"), "auto and/or a comma list: naive, snaive, mean, drift, ets, arima, theta, otm, dotm, croston, sba, tsb, fourier, fourier-notrend, pooled")
        ("season-length", po::value<std::string>(), "cycles, e.g. 7 or 24,168 (default: the lake's)")
        ("partition-by", po::value<std::string>(), "key columns to group by; the target is summed over the rest")
        ("pool-by", po::value<std::string>(), "key columns whose groups are fitted jointly (--models pooled; with auto, a "
                                              "member of its pool): "
                                              "shared price elasticity, lifts and cycles, each series its own "
                                              "level and trend")
        ("judge-by", po::value<std::string>(), "key columns whose groups judge --models auto's members together "
                                               "(each series half by its own validation windows, half by its "
                                               "group's), with no joint fit")
        ("covariates", po::value<std::string>()->default_value("all"), "lake covariates the models use: all, none, or a list")
        ("backtest-windows", po::value<int>()->default_value(1), "rolling validation windows of --horizon points "
                                                                 "(--models auto takes at least 4)")
        ("ensemble", po::value<std::string>()->default_value("auto"), "combine the best models: mean, median, none "
                                                                      "(pick the best), or auto (--models auto: the "
                                                                      "members and weights its validation supports)")
        ("ensemble-size", po::value<int>()->default_value(3), "how many of the best models an ensemble combines")
        ("max-history", po::value<std::string>()->default_value("auto"), "fit at most the latest N periods: N, all, or "
                                                                         "auto (3 of the longest cycle, at least 1000)")
        ("threads", po::value<int>()->default_value(0), "worker threads per rank (0: SLURM_CPUS_PER_TASK, "
                                                        "OMP_NUM_THREADS, else the CPUs the rank may use)")
        ("seed", po::value<uint64_t>()->default_value(1), "run seed for anything random")
        ("batch", po::value<int64_t>()->default_value(512), "models per batch sent to rank 0")
        ("schedule", po::value<std::string>()->default_value("static"), "static: each rank a contiguous range "
                                                                      "balanced by estimated cost; dynamic: rank 0 "
                                                                      "hands out chunks of at most --batch on request")
        ("resume", po::bool_switch(), "take up the journal REG.h5.journal of a run that was stopped or killed: "
                                      "its models are not fitted again (without a journal: a fresh run)")
        ("run-id", po::value<std::string>(), "the run id, the registry's version column (default: a new one, "
                                             "TIMEZ-XXXX; on --resume the journal's)")
        ("quiet", po::bool_switch(), "no progress lines")
        ("progress-every", po::value<double>()->default_value(0), "seconds between progress lines (0: 0.2 on a "
                                                                   "terminal, 5 in a log file)")
        ("summary-json", po::value<std::string>(), "also write the run summary as JSON to this file");
  } else if (command == "score") {
    d.add_options()
        ("lake", po::value<std::string>()->required(), "lake file, with the periods after the models' last ones "
                                                       "(ingest --append)")
        ("production", po::value<std::string>()->required(), "production registry (from promote; only read)")
        ("horizon", po::value<int>()->required(), "periods to forecast past each series' last observation")
        ("predictions", po::value<std::string>()->required(), "predictions file to write")
        ("sql", po::value<std::string>(), "also write the rows into the table predictions of sqlite:///abs/path.db, "
                                          "sqlite://relative.db or postgresql://user@host:port/db, replacing the "
                                          "rows of the run id (data/SQL.md)")
        ("run-id", po::value<std::string>(), "with --sql: the run id that tags the rows (default: VERSION@PERIOD, "
                                             "the newest production version scored and the lake's last period)")
        ("threads", po::value<int>()->default_value(0), "worker threads per rank (0: SLURM_CPUS_PER_TASK, "
                                                        "OMP_NUM_THREADS, else the CPUs the rank may use)")
        ("batch", po::value<int64_t>()->default_value(512), "models per batch sent to rank 0")
        ("schedule", po::value<std::string>()->default_value("static"), "static: each rank a contiguous range "
                                                                      "balanced by estimated cost; dynamic: rank 0 "
                                                                      "hands out chunks of at most --batch on request")
        ("quiet", po::bool_switch(), "no progress lines")
        ("progress-every", po::value<double>()->default_value(0), "seconds between progress lines (0: 0.2 on a "
                                                                   "terminal, 5 in a log file)")
        ("summary-json", po::value<std::string>(), "also write the run summary as JSON to this file");
  } else if (command == "serve") {
    d.add_options()
        ("production", po::value<std::string>()->required(), "production registry (from promote; watched: a newly "
                                                             "promoted one is served without a restart)")
        ("lake", po::value<std::string>()->required(), "lake the models are brought up to (watched too)")
        ("host", po::value<std::string>()->default_value("127.0.0.1"), "address to listen on (0.0.0.0: all)")
        ("port", po::value<int>()->default_value(8080), "TCP port (0: any free port; the URL is printed)")
        ("cache-models", po::value<int64_t>()->default_value(10000), "models kept loaded (least recently used "
                                                                     "dropped first)")
        ("threads", po::value<int>()->default_value(32), "request threads; each open connection holds one")
        ("max-horizon", po::value<int>()->default_value(0), "largest h a request may ask (0: four times the "
                                                            "registry's horizon)")
        ("reload-every", po::value<double>()->default_value(1.0), "seconds between checks for a replaced "
                                                                  "registry or lake");
  } else if (command == "registry list") {
    d.add_options()
        ("registry", po::value<std::string>()->required(), "registry file")
        ("format", po::value<std::string>()->default_value("table"), "table, csv or json");
  } else if (command == "registry show") {
    d.add_options()
        ("registry", po::value<std::string>()->required(), "registry file")
        ("key", po::value<std::string>()->required(), "the model's key, e.g. store=12,item=5");
  } else if (command == "promote") {
    d.add_options()
        ("registry", po::value<std::string>(), "staging registry to promote from (read only; not read by --rollback)")
        ("production", po::value<std::string>()->required(), "production registry: read when it exists, and "
                                                             "replaced by the new one")
        ("rule", po::value<std::vector<std::string>>(), "METRIC<VALUE that a model must pass, e.g. smape<20: METRIC "
                                                        "mae, rmse, mape, smape, mase or n_obs; <, <=, > or >=; "
                                                        "repeat for several (all must pass; a NaN metric fails)")
        ("compare", po::value<std::string>(), "champion/challenger: replace a production model only if better on "
                                              "this metric (mae, rmse, mape, smape, mase)")
        ("margin", po::value<double>(), "relative margin of --compare: the new model wins if new <= old * (1 - X) "
                                        "and new < old (default 0)")
        ("keys", po::value<std::string>(), "CSV whose header names the key columns, one row per key: only these keys")
        ("dry-run", po::bool_switch(), "print what would change; write nothing")
        ("rollback", po::value<std::string>(), "VERSION: every key whose production model has this version goes "
                                               "back to the version it replaced");
  } else if (command == "report") {
    d.add_options()
        ("registry", po::value<std::string>()->required(), "registry file (from train)")
        ("predictions", po::value<std::string>()->required(), "predictions file of the same run")
        ("production", po::value<std::string>(), "production registry: what its last promotion did")
        ("lake", po::value<std::string>(), "lake: the worst series' history")
        ("out", po::value<std::string>()->required(), "HTML file to write (self-contained: inline SVG and CSS)")
        ("worst", po::value<int>()->default_value(6), "how many of the worst series (by MASE) to draw");
  } else if (command == "bench") {
    d.add_options()
        ("layouts", po::value<std::string>()->default_value("1x1,1x2,2x1,2x2"), "RANKSxTHREADS layouts to train "
                                                                               "with, comma separated")
        ("out", po::value<std::string>()->required(), "folder for bench.csv, bench.html and each layout's run "
                                                      "(layout-RxT/); made if missing")
        ("price", po::value<double>(), "price per node-hour (any currency): cost_per_1000 = price x nodes x hours / "
                                       "models x 1000")
        ("prices", po::value<std::string>(), "CSV with columns sku,price_per_node_hour: one cost_per_1000_SKU column "
                                             "per SKU (instead of --price)")
        ("generate", po::value<std::string>(), "STORES,ITEMS,LENGTH: train on a generated daily panel (generated "
                                               "and ingested into --out first) instead of a lake")
        ("lake", po::value<std::string>(), "lake to train on (the job files' common key)")
        ("horizon", po::value<int>(), "periods to forecast and hold out (the job files' common key)")
        ("models", po::value<std::string>(), "train --models (default: the job file's, else auto)")
        ("schedule", po::value<std::string>(), "train --schedule static|dynamic (default: the job file's, else "
                                               "static); the summary's imbalance column shows its effect")
        ("repeat", po::value<int>()->default_value(1), "runs per layout; each row reports the run with the median "
                                                       "wall time")
        ("launcher", po::value<std::string>()->default_value("auto"), "mpirun, srun, or auto (srun inside a Slurm "
                                                                      "allocation, else mpirun)")
        ("launcher-args", po::value<std::string>(), "more words for the launcher, comma separated (e.g. "
                                                    "--hostfile,hosts)");
  } else if (command == "bench compare") {
    d.add_options()
        ("csv", po::value<std::vector<std::string>>()->required(), "bench.csv files (also given without the option "
                                                                   "name)")
        ("out", po::value<std::string>()->required(), "HTML file to write");
  } else if (command == "predictions export") {
    d.add_options()
        ("predictions", po::value<std::string>()->required(), "predictions file")
        ("format", po::value<std::string>()->default_value("csv"), "csv or json")
        ("out", po::value<std::string>(), "output file (default: standard output)")
        ("sql", po::value<std::string>(), "instead of CSV/JSON, write the rows into the table predictions of "
                                          "sqlite:///abs/path.db, sqlite://relative.db or "
                                          "postgresql://user@host:port/db, replacing the rows of the run id "
                                          "(not with --out or --format; data/SQL.md)")
        ("run-id", po::value<std::string>(), "with --sql: the run id that tags the rows (default: the predictions "
                                             "file's run_id)");
  } else {
    throw std::logic_error("no options for command " + command);
  }
  return d;
}

std::vector<std::string> CommandNames() {
  return {"generate", "ingest", "train",  "score",  "registry list",      "registry show", "promote",
          "serve",    "report", "bench",  "bench compare", "predictions export"};
}

namespace {

// The section a subcommand reads in a job file: its first word ("registry list" reads [registry]); but [bench]
// holds bench's keys (its --out is a folder), so bench compare reads [bench-compare].
std::string SectionOf(const std::string& command) {
  if (command == "bench compare") return "bench-compare";
  return command.substr(0, command.find(' '));
}

// Sections a job file may hold: one per subcommand, so that one job file written for the whole pipeline works
// with every command.
std::set<std::string> KnownSections() {
  std::set<std::string> known;
  for (const auto& c : CommandNames()) known.insert(SectionOf(c));
  return known;
}

std::string Join(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void StoreJobFile(const std::string& command, const std::string& path, const po::options_description& desc,
                  po::variables_map* vm) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open job file: " + std::strerror(errno));
  std::set<std::string> any_command_knows;
  for (const auto& c : CommandNames()) {
    const po::options_description other = CommandOptions(c);
    for (const auto& o : other.options()) any_command_knows.insert(o->long_name());
  }
  po::options_description none;
  const po::parsed_options raw = po::parse_config_file(in, none, /*allow_unregistered=*/true);
  po::parsed_options mine(&desc);
  const std::string section = SectionOf(command) + ".";
  const std::set<std::string> sections = KnownSections();
  // A key of the subcommand's section overrides the common key of the same name (score's predictions file
  // beside train's).
  std::set<std::string> in_section;
  for (const po::option& o : raw.options)
    if (o.string_key.compare(0, section.size(), section) == 0) in_section.insert(o.string_key.substr(section.size()));
  for (const po::option& o : raw.options) {
    std::string key = o.string_key;
    const auto dot = key.find('.');
    if (dot != std::string::npos && !sections.count(key.substr(0, dot)))
      throw std::runtime_error(path + ": unknown section [" + key.substr(0, dot) + "] (key '" + key.substr(dot + 1) +
                               "'); sections are named after subcommands: " + Join(sections));
    if (dot == std::string::npos) {
      // Common key: for this subcommand if it knows it, skipped if another does, else an error.
      if (!desc.find_nothrow(key, false)) {
        if (any_command_knows.count(key)) continue;
        throw std::runtime_error(path + ": unknown key '" + key + "' at the top of the job file");
      }
      if (in_section.count(key)) continue;
    } else if (key.compare(0, section.size(), section) == 0) {
      key = key.substr(section.size());
      if (!desc.find_nothrow(key, false))
        throw std::runtime_error(path + ": unknown key '" + key + "' in section [" + SectionOf(command) + "]");
    } else {
      continue;  // another subcommand's section
    }
    if (key == "config" || key == "help") throw std::runtime_error(path + ": '" + key + "' cannot be set in a job file");
    po::option kept(key, o.value);
    kept.original_tokens = o.original_tokens;
    mine.options.push_back(kept);
  }
  po::store(mine, *vm);
}

// Checks of values Program_options cannot express; they throw po::error naming the option (a usage error).
void CheckValues(const std::string& command, const po::variables_map& vm) {
  auto text = [&vm](const char* name) { return vm[name].as<std::string>(); };
  auto no_repeats = [](const std::vector<std::string>& list, const std::string& option) {
    for (size_t i = 0; i < list.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (list[i] == list[j]) throw po::error("--" + option + ": '" + list[i] + "' is given twice");
  };
  auto in_range = [&vm](const char* name, int64_t lo, int64_t hi) {
    if (!vm.count(name)) return;
    const auto& v = vm[name].value();
    int64_t x = 0;
    if (auto i = boost::any_cast<int>(&v)) x = *i;
    else x = boost::any_cast<int64_t>(v);
    if (x < lo || x > hi)
      throw po::error("--" + std::string(name) + ": " + std::to_string(x) + " is not between " + std::to_string(lo) +
                      " and " + std::to_string(hi));
  };
  if (command == "generate") {
    in_range("stores", 1, 1000000000);
    in_range("items", 1, 1000000000);
    in_range("length", 1, 1000000000);
    const double rows = static_cast<double>(vm["stores"].as<int64_t>()) * static_cast<double>(vm["items"].as<int64_t>()) *
                        static_cast<double>(vm["length"].as<int64_t>());
    if (rows > 1e10) {
      char n[32];
      std::snprintf(n, sizeof n, "%.3g", rows);
      throw po::error(std::string("--stores x --items x --length: ") + n + " rows, more than 10 billion");
    }
    for (const char* share : {"intermittent-share", "missing-share"}) {
      const double x = vm[share].as<double>();
      if (!(x >= 0 && x < 1)) {
        char n[32];
        std::snprintf(n, sizeof n, "%g", x);
        throw po::error("--" + std::string(share) + ": " + n + " is not in [0, 1)");
      }
    }
  } else if (command == "ingest") {
    IngestOptions o;
    o.keys = SplitList(text("keys"));
    o.time = text("time");
    o.target = text("target");
    if (vm.count("covariates")) o.covariates = SplitList(text("covariates"));
    try {
      CheckColumnOptions(o);
    } catch (const std::invalid_argument& e) {
      throw po::error(e.what());
    }
    if (vm.count("season-length")) ParseNumberList(text("season-length"), "season-length");
    ParseByteSize(text("memory"), "memory");
  } else if (command == "train") {
    in_range("threads", 0, 1024);
    if (vm.count("season-length")) ParseNumberList(text("season-length"), "season-length");
    if (vm.count("partition-by")) no_repeats(SplitList(text("partition-by")), "partition-by");
    if (vm.count("pool-by")) no_repeats(SplitList(text("pool-by")), "pool-by");
    if (vm.count("judge-by")) no_repeats(SplitList(text("judge-by")), "judge-by");
    no_repeats(SplitList(text("covariates")), "covariates");
  } else if (command == "score") {
    in_range("threads", 0, 1024);
  } else if (command == "report") {
    in_range("worst", 0, 1000);
  } else if (command == "bench") {
    try {
      ParseLayouts(text("layouts"));
    } catch (const std::invalid_argument& e) {
      throw po::error(std::string("--layouts: ") + e.what());
    }
    in_range("repeat", 1, 1000);
    in_range("horizon", 1, 100000000);
    if (vm.count("price") && vm.count("prices")) throw po::error("give --price or --prices, not both");
    if (vm.count("price") && !(vm["price"].as<double>() > 0 && std::isfinite(vm["price"].as<double>())))
      throw po::error("--price must be a positive number (per node-hour)");
    if (!vm.count("generate") && !vm.count("lake"))
      throw po::error("bench needs a lake: --config JOB.ini naming one (lake = ...), --lake, or --generate "
                      "STORES,ITEMS,LENGTH");
    if (!vm.count("horizon")) throw po::error("bench needs --horizon (or horizon = ... in the job file)");
    const std::string launcher = text("launcher");
    if (launcher != "auto" && launcher != "mpirun" && launcher != "srun")
      throw po::error("--launcher: '" + launcher + "' is not auto, mpirun or srun");
  } else if (command == "serve") {
    in_range("port", 0, 65535);
    in_range("threads", 1, 4096);
    in_range("max-horizon", 0, 100000);
    in_range("cache-models", 0, int64_t{1} << 40);
    const double every = vm["reload-every"].as<double>();
    if (!(every > 0 && every <= 86400)) throw po::error("--reload-every: must be more than 0 and at most 86400");
  } else if (command == "promote") {
    // Rules are read (and so checked) even with --rollback, which does not use them: a job file's [promote]
    // section serves both.
    if (vm.count("rule")) {
      for (const auto& rule : vm["rule"].as<std::vector<std::string>>()) {
        try {
          ParseRule(rule);
        } catch (const std::invalid_argument& e) {
          throw po::error(e.what());
        }
      }
    }
    if (vm.count("compare") && !IsCompareMetric(text("compare")))
      throw po::error("--compare: '" + text("compare") + "' is not one of mae, rmse, mape, smape, mase");
    if (vm.count("margin")) {
      const double m = vm["margin"].as<double>();
      if (!vm.count("compare")) throw po::error("--margin needs --compare (the metric the margin applies to)");
      if (!(m >= 0 && m < 1)) {
        char n[32];
        std::snprintf(n, sizeof n, "%g", m);
        throw po::error(std::string("--margin: ") + n + " is not in [0, 1) (a relative margin: 0.05 is 5%)");
      }
    }
    if (vm.count("rollback")) {
      if (text("rollback").empty()) throw po::error("--rollback: the version is empty");
    } else {
      if (!vm.count("registry"))
        throw po::error("the option '--registry' is required but missing (the staging registry to promote from)");
      if (!vm.count("rule"))
        throw po::error("promote needs at least one --rule (e.g. --rule 'smape<20'), or --rollback VERSION");
    }
  }
}

}  // namespace

bool ParseOptions(const std::string& command, int argc, char** argv, po::variables_map* vm) {
  const po::options_description desc = CommandOptions(command);
  po::command_line_parser parser(argc, argv);
  parser.options(desc);
  po::positional_options_description files;  // bench compare's files may be given without the option name
  if (command == "bench compare") parser.positional(files.add("csv", -1));
  po::store(parser.run(), *vm);
  if (vm->count("help")) {
    std::cout << "usage: manymodels " << command << " [options]\n\n" << desc << "\n";
    return false;
  }
  if (vm->count("config")) StoreJobFile(command, (*vm)["config"].as<std::string>(), desc, vm);
  po::notify(*vm);
  CheckValues(command, *vm);
  return true;
}

std::string DescribeOptions(const po::variables_map& vm) {
  std::ostringstream s;
  for (const auto& [name, value] : vm) {
    const auto& v = value.value();
    s << name << "=";
    if (auto p = boost::any_cast<std::string>(&v)) s << *p;
    else if (auto i = boost::any_cast<int>(&v)) s << *i;
    else if (auto l = boost::any_cast<int64_t>(&v)) s << *l;
    else if (auto u = boost::any_cast<uint64_t>(&v)) s << *u;
    else if (auto d = boost::any_cast<double>(&v)) s << *d;
    else if (auto b = boost::any_cast<bool>(&v)) s << (*b ? "true" : "false");
    else if (auto list = boost::any_cast<std::vector<std::string>>(&v)) {
      for (size_t k = 0; k < list->size(); ++k) s << (k ? "\n" + name + "=" : "") << (*list)[k];
    }
    s << "\n";
  }
  return s.str();
}

namespace {
std::string command_line;
}

void SetCommandLine(int argc, char** argv) {
  command_line.clear();
  for (int i = 0; i < argc; ++i) {
    const std::string word = argv[i];
    if (i) command_line += ' ';
    if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                "_-+=/.,:@%") == std::string::npos) {
      command_line += word;
      continue;
    }
    command_line += '\'';
    for (char c : word) command_line += c == '\'' ? std::string("'\\''") : std::string(1, c);
    command_line += '\'';
  }
}

const std::string& CommandLine() { return command_line; }

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto b = item.find_first_not_of(" \t"), e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

std::vector<double> ParseNumberList(const std::string& s, const std::string& option) {
  constexpr double kMax = 1e7;  // past any cycle a series can show (ten years of minutes is 5.3 million)
  std::vector<double> out;
  for (const auto& item : SplitList(s)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used != item.size() || !std::isfinite(v) || !(v >= 1))
      throw po::error("--" + option + ": '" + item + "' is not a number of at least 1");
    if (v > kMax) throw po::error("--" + option + ": '" + item + "' is more than 10000000 periods");
    for (double seen : out)
      if (seen == v) throw po::error("--" + option + ": '" + item + "' is given twice");
    out.push_back(v);
  }
  if (out.empty()) throw po::error("--" + option + " is empty");
  return out;
}

uint64_t ParseByteSize(const std::string& s, const std::string& option) {
  constexpr uint64_t kMin = uint64_t{64} << 10;
  size_t used = 0;
  double v = -1;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    used = 0;
  }
  std::string unit = s.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (!unit.empty() && unit.back() == 'i') unit.pop_back();
  int shift = -1;
  if (unit.empty()) shift = 0;
  else if (unit.size() == 1) {
    const auto u = std::string("KMGT").find(static_cast<char>(std::toupper(static_cast<unsigned char>(unit[0]))));
    if (u != std::string::npos) shift = 10 * static_cast<int>(u + 1);
  }
  if (used == 0 || shift < 0 || !std::isfinite(v) || v < 0)
    throw po::error("--" + option + ": '" + s + "' is not a size in bytes (such as 1073741824, 512M or 1.5G)");
  const double bytes = std::ldexp(v, shift);
  if (bytes < static_cast<double>(kMin) || bytes >= 0x1p63)
    throw po::error("--" + option + ": '" + s + "' is less than 64K or more than 8 EiB");
  return static_cast<uint64_t>(bytes);
}

}  // namespace mm::app
