#include "options.h"

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>

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
        ("lake", po::value<std::string>(), "same as --out (the job files' common key)");
  } else if (command == "train") {
    d.add_options()
        ("lake", po::value<std::string>()->required(), "lake file (from ingest)")
        ("horizon", po::value<int>()->required(), "periods to forecast, and to hold out for validation")
        ("registry", po::value<std::string>()->required(), "registry file to write")
        ("predictions", po::value<std::string>()->required(), "predictions file to write")
        ("models", po::value<std::string>()->default_value("auto"), "auto and/or a comma list: naive, snaive, mean, drift, ets, arima, theta, otm, dotm, croston, sba, tsb, fourier")
        ("season-length", po::value<std::string>(), "cycles, e.g. 7 or 24,168 (default: the lake's)")
        ("partition-by", po::value<std::string>(), "key columns to group by; the target is summed over the rest")
        ("covariates", po::value<std::string>()->default_value("all"), "lake covariates the models use: all, none, or a list")
        ("backtest-windows", po::value<int>()->default_value(1), "rolling validation windows of --horizon points")
        ("ensemble", po::value<std::string>()->default_value("auto"), "combine the best models: mean, median, none "
                                                                      "(pick the best), or auto (median for --models auto)")
        ("ensemble-size", po::value<int>()->default_value(3), "how many of the best models an ensemble combines")
        ("max-history", po::value<std::string>()->default_value("auto"), "fit at most the latest N periods: N, all, or "
                                                                         "auto (3 of the longest cycle, at least 1000)")
        ("threads", po::value<int>()->default_value(0), "worker threads per rank (0: SLURM_CPUS_PER_TASK, "
                                                        "OMP_NUM_THREADS, else the CPUs the rank may use)")
        ("seed", po::value<uint64_t>()->default_value(1), "run seed for anything random")
        ("batch", po::value<int64_t>()->default_value(512), "models per batch sent to rank 0")
        ("quiet", po::bool_switch(), "no progress lines")
        ("progress-every", po::value<double>()->default_value(0), "seconds between progress lines (0: 0.2 on a "
                                                                   "terminal, 5 in a log file)")
        ("summary-json", po::value<std::string>(), "also write the run summary as JSON to this file");
  } else if (command == "registry list") {
    d.add_options()
        ("registry", po::value<std::string>()->required(), "registry file")
        ("format", po::value<std::string>()->default_value("table"), "table, csv or json");
  } else if (command == "registry show") {
    d.add_options()
        ("registry", po::value<std::string>()->required(), "registry file")
        ("key", po::value<std::string>()->required(), "the model's key, e.g. store=12,item=5");
  } else if (command == "predictions export") {
    d.add_options()
        ("predictions", po::value<std::string>()->required(), "predictions file")
        ("format", po::value<std::string>()->default_value("csv"), "csv or json")
        ("out", po::value<std::string>(), "output file (default: standard output)");
  } else {
    throw std::logic_error("no options for command " + command);
  }
  return d;
}

std::vector<std::string> CommandNames() {
  return {"generate", "ingest", "train", "registry list", "registry show", "predictions export"};
}

namespace {

// The section a subcommand reads in a job file: its first word ("registry list" reads [registry]).
std::string SectionOf(const std::string& command) { return command.substr(0, command.find(' ')); }

void StoreJobFile(const std::string& command, const std::string& path, const po::options_description& desc,
                  po::variables_map* vm) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open job file");
  std::set<std::string> any_command_knows;
  for (const auto& c : CommandNames()) {
    const po::options_description other = CommandOptions(c);
    for (const auto& o : other.options()) any_command_knows.insert(o->long_name());
  }
  po::options_description none;
  const po::parsed_options raw = po::parse_config_file(in, none, /*allow_unregistered=*/true);
  po::parsed_options mine(&desc);
  const std::string section = SectionOf(command) + ".";
  for (const po::option& o : raw.options) {
    std::string key = o.string_key;
    const auto dot = key.find('.');
    if (dot == std::string::npos) {
      // Common key: for this subcommand if it knows it, skipped if another does, else an error.
      if (!desc.find_nothrow(key, false)) {
        if (any_command_knows.count(key)) continue;
        throw std::runtime_error(path + ": unknown key '" + key + "' at the top of the job file");
      }
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

}  // namespace

bool ParseOptions(const std::string& command, int argc, char** argv, po::variables_map* vm) {
  const po::options_description desc = CommandOptions(command);
  po::store(po::command_line_parser(argc, argv).options(desc).run(), *vm);
  if (vm->count("help")) {
    std::cout << "usage: manymodels " << command << " [options]\n\n" << desc << "\n";
    return false;
  }
  if (vm->count("config")) StoreJobFile(command, (*vm)["config"].as<std::string>(), desc, vm);
  po::notify(*vm);
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
  std::vector<double> out;
  for (const auto& item : SplitList(s)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used != item.size() || !(v >= 1))
      throw po::error("--" + option + ": '" + item + "' is not a number of at least 1");
    out.push_back(v);
  }
  if (out.empty()) throw po::error("--" + option + " is empty");
  return out;
}

}  // namespace mm::app
