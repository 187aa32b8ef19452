#include "manymodels/io/generate.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "manymodels/core/random.h"
#include "manymodels/core/series.h"
#include "manymodels/io/files.h"

namespace mm {
namespace {

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, p);
}

void AppendCents(std::string* out, int64_t cents) {
  AppendInt(out, cents / 100);
  out->push_back('.');
  out->push_back(static_cast<char>('0' + (cents / 10) % 10));
  out->push_back(static_cast<char>('0' + cents % 10));
}

// One series' rows as CSV text.
void GenerateSeries(const GenerateOptions& o, int64_t store, int64_t item, const std::vector<std::string>& dates,
                    std::string* out) {
  Rng rng(SeriesSeed(o.seed, std::to_string(store) + "," + std::to_string(item)));
  Rng store_rng(SeriesSeed(o.seed, "store" + std::to_string(store)));
  Rng item_rng(SeriesSeed(o.seed, "item" + std::to_string(item)));
  const bool weekly = o.frequency == Frequency::kWeekly;
  const double store_size = std::exp(0.5 * store_rng.Normal());
  const double item_pop = std::exp(0.8 * item_rng.Normal());
  const double base_price = 1.0 + std::floor(item_rng.Uniform() * 900) / 100.0;
  const double elasticity = -1.0 - 1.5 * item_rng.Uniform();
  const bool intermittent = rng.Uniform() < o.intermittent_share;
  double level = intermittent ? 0.05 + 0.4 * rng.Uniform() : 8.0 * store_size * item_pop;
  if (weekly) level *= 7;
  const double trend = 0.0004 * rng.Normal() * (weekly ? 7 : 1);  // relative growth per period
  double weekday[7];
  for (double& w : weekday) w = 1.0 + 0.15 * rng.Normal();
  weekday[5] += 0.3, weekday[6] += 0.35;  // weekends (the start date is a Thursday: offsets shift it)
  const double yearly_amp = 0.1 + 0.25 * rng.Uniform(), yearly_phase = 6.283185307179586 * rng.Uniform();
  const double period_per_year = weekly ? 52.1775 : 365.25;
  double price = base_price;
  for (int64_t t = 0; t < o.length; ++t) {
    if (rng.Uniform() < (weekly ? 0.1 : 0.015)) price = base_price * (0.85 + 0.3 * rng.Uniform());
    const bool promo = rng.Uniform() < 0.05;
    const double paid = promo ? price * 0.8 : price;
    double mean = level * std::exp(trend * static_cast<double>(t));
    if (!weekly) mean *= weekday[t % 7];
    mean *= 1.0 + yearly_amp * std::sin(6.283185307179586 * static_cast<double>(t) / period_per_year + yearly_phase);
    mean *= std::pow(paid / base_price, elasticity) * (promo ? 1.3 : 1.0);
    const int64_t sales = rng.Poisson(mean);
    if (rng.Uniform() < o.missing_share) continue;
    out->append(dates[t]);
    out->push_back(',');
    AppendInt(out, store);
    out->push_back(',');
    AppendInt(out, item);
    out->push_back(',');
    AppendInt(out, sales);
    out->push_back(',');
    AppendCents(out, std::llround(paid * 100));
    out->append(promo ? ",1\n" : ",0\n");
  }
}

class Sink {
 public:
  // `name` is what messages call the file; `gz` compresses.
  Sink(const std::string& path, std::string name, bool gz) : gz_(gz), name_(std::move(name)) {
    if (gz_) g_ = gzopen(path.c_str(), "wb1");
    else f_ = std::fopen(path.c_str(), "wb");
    if (!g_ && !f_) throw std::runtime_error(name_ + ": cannot create: " + std::strerror(errno));
  }
  ~Sink() {  // after an error: release quietly, the caller reports the error
    if (g_) gzclose(g_);
    if (f_) std::fclose(f_);
  }
  void Write(const std::string& s) {
    if (s.empty()) return;
    errno = 0;
    const bool ok = gz_ ? gzwrite(g_, s.data(), static_cast<unsigned>(s.size())) == static_cast<int>(s.size())
                        : std::fwrite(s.data(), 1, s.size(), f_) == s.size();
    if (!ok) Fail("write failed");
  }
  void Close() {
    errno = 0;
    const int rc = gz_ ? gzclose(g_) : std::fclose(f_);
    g_ = nullptr;
    f_ = nullptr;
    if (rc != 0) Fail("close failed");
  }

 private:
  [[noreturn]] void Fail(const char* what) const {
    throw std::runtime_error(name_ + ": " + (errno ? std::strerror(errno) : what));
  }
 private:
  bool gz_;
  std::string name_;
  gzFile g_ = nullptr;
  FILE* f_ = nullptr;
};

}  // namespace

GenerateSummary Generate(const GenerateOptions& o) {
  if (o.frequency != Frequency::kDaily && o.frequency != Frequency::kWeekly)
    throw std::invalid_argument("generate: --freq must be D or W");
  if (o.stores < 1 || o.items < 1 || o.length < 1) throw std::invalid_argument("generate: sizes must be positive");
  auto start = ParseTime(o.start);
  if (!start || start->kind != TimeKind::kDate) throw std::invalid_argument("generate: bad start date " + o.start);
  std::vector<std::string> dates(static_cast<size_t>(o.length));
  const int step = o.frequency == Frequency::kWeekly ? 7 : 1;
  for (int64_t t = 0; t < o.length; ++t) dates[t] = FormatPeriod(Frequency::kDaily, start->value + t * step, 0);

  AtomicOutput out(o.out, AtomicOutput::Kind::kStream);
  const bool gz = o.out.size() > 3 && o.out.compare(o.out.size() - 3, 3, ".gz") == 0;
  Sink sink(out.temp_path(), o.out, gz);
  sink.Write("date,store,item,sales,price,promo\n");
  const int64_t nseries = o.stores * o.items;
  constexpr int64_t kBlock = 256;
  std::vector<std::string> texts(kBlock);
  GenerateSummary summary;
  for (int64_t b = 0; b < nseries; b += kBlock) {
    const int64_t n = std::min(kBlock, nseries - b);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < n; ++i) {
      texts[i].clear();
      GenerateSeries(o, (b + i) / o.items + 1, (b + i) % o.items + 1, dates, &texts[i]);
    }
    for (int64_t i = 0; i < n; ++i) {
      sink.Write(texts[i]);
      summary.rows += std::count(texts[i].begin(), texts[i].end(), '\n');
    }
  }
  sink.Close();
  out.Commit();
  summary.series = nseries;
  return summary;
}

}  // namespace mm
