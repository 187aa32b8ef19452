// Fits one method on every series of a long-format gzip CSV (id,m,h,split,t,value; see
// /work/shared/data/README.md) using the train rows, forecasts h steps and writes id,step,forecast.
// Prints the fit + forecast time over all series, wall and CPU of this thread. Core only: no MPI, no HDF5.
//
// Usage: forecast_bench DATA.csv.gz METHOD OUT.csv [--m PERIOD] [--limit N] [--labels LABELS.csv]
//   --m PERIOD   seasonal period given to the model instead of the file's m column
//   --limit N    only the first N series (in file order)
//   --labels F   also write id,label,error,cpu_ms per series
#include <time.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "manymodels/core/model.h"
#include "manymodels/core/series.h"

namespace {

// CPU seconds of this thread: the machine is shared, so wall time says more about the neighbours.
double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

struct Series {
  std::string id;
  double m = 1;
  int h = 1;
  std::vector<std::pair<long, double>> train;  // (t, value)
};

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string f;
  while (std::getline(ss, f, ',')) out.push_back(f);
  return out;
}

// Reads the train rows of every series, in order of first appearance.
bool ReadSeries(const std::string& path, std::vector<Series>* out, std::string* error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) {
    *error = "cannot open " + path;
    return false;
  }
  std::map<std::string, size_t> index;
  std::vector<char> buf(1 << 16);
  std::string line;
  bool header = true;
  while (gzgets(f, buf.data(), static_cast<int>(buf.size()))) {
    line = buf.data();
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (header) {
      header = false;
      if (line != "id,m,h,split,t,value") {
        *error = "unexpected header: " + line;
        gzclose(f);
        return false;
      }
      continue;
    }
    const auto c = Split(line);
    if (c.size() != 6) continue;
    auto [it, added] = index.emplace(c[0], out->size());
    if (added) {
      out->push_back(Series{c[0], std::stod(c[1]), std::stoi(c[2]), {}});
    }
    if (c[3] == "train") (*out)[it->second].train.emplace_back(std::stol(c[4]), std::stod(c[5]));
  }
  gzclose(f);
  for (auto& s : *out) std::sort(s.train.begin(), s.train.end());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: forecast_bench DATA.csv.gz METHOD OUT.csv [--m PERIOD] [--limit N] [--labels F]\n";
    return 2;
  }
  const std::string data = argv[1], method_name = argv[2], out_path = argv[3];
  double m_override = 0;
  long limit = -1;
  std::string labels_path;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--m" && i + 1 < argc) {
      m_override = std::atof(argv[++i]);
    } else if (a == "--limit" && i + 1 < argc) {
      limit = std::atol(argv[++i]);
    } else if (a == "--labels" && i + 1 < argc) {
      labels_path = argv[++i];
    } else {
      std::cerr << "unknown flag " << a << "\n";
      return 2;
    }
  }
  const mm::Method* method = mm::FindMethod(method_name);
  if (!method) {
    std::cerr << "unknown method " << method_name << "\n";
    return 2;
  }
  std::vector<Series> series;
  std::string error;
  if (!ReadSeries(data, &series, &error)) {
    std::cerr << error << "\n";
    return 1;
  }
  if (limit >= 0 && static_cast<size_t>(limit) < series.size()) series.resize(limit);

  std::ofstream out(out_path);
  out << "id,step,forecast\n";
  out.precision(10);
  std::ofstream labels;
  if (!labels_path.empty()) {
    labels.open(labels_path);
    labels << "id,label,error,cpu_ms\n";
  }
  double seconds = 0, cpu_seconds = 0;
  int failed = 0;
  std::map<std::string, int> label_counts;
  for (const Series& s : series) {
    std::vector<double> y;
    for (const auto& [t, v] : s.train) y.push_back(v);
    mm::FitContext ctx;
    ctx.season_lengths = {m_override > 0 ? m_override : s.m};
    ctx.horizon = s.h;
    ctx.seed = mm::SeriesSeed(0, s.id);
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = ThreadCpuSeconds();
    mm::FitOutcome fit = method->Fit(y, ctx);
    mm::Forecast f;
    if (fit.model) f = fit.model->Predict(s.h);
    const double cpu = ThreadCpuSeconds() - c0;
    cpu_seconds += cpu;
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string label = fit.model ? fit.model->Label() : "failed";
    if (!fit.model) {  // as the R peer does: repeat the last value
      ++failed;
      f.mean.assign(s.h, y.empty() ? 0.0 : y.back());
    }
    ++label_counts[label];
    for (int i = 0; i < s.h; ++i) out << s.id << ',' << i + 1 << ',' << f.mean[i] << '\n';
    if (labels.is_open()) labels << s.id << ',' << label << ',' << fit.error << ',' << 1000 * cpu << '\n';
  }
  const double n = static_cast<double>(std::max<size_t>(series.size(), 1));
  std::printf(
      "method=%s series=%zu failed=%d seconds=%.3f ms_per_series=%.3f cpu_seconds=%.3f "
      "cpu_ms_per_series=%.3f\n",
      method_name.c_str(), series.size(), failed, seconds, 1000 * seconds / n, cpu_seconds,
      1000 * cpu_seconds / n);
  for (const auto& [label, count] : label_counts) std::printf("  %s %d\n", label.c_str(), count);
  return 0;
}
