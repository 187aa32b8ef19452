// generate: a synthetic retail panel (stores x items), deterministic for a seed, written as long CSV with the
// columns date,store,item,sales,price,promo. Each series has a level, a trend, weekly and yearly cycles, price
// and promotion effects; a share of items is intermittent (mostly zero); a few days are missing.
#pragma once

#include <cstdint>
#include <string>

#include "manymodels/core/calendar.h"

namespace mm {

struct GenerateOptions {
  std::string out;             // .csv, or .csv.gz for gzip
  int64_t stores = 10, items = 10, length = 730;
  Frequency frequency = Frequency::kDaily;  // daily or weekly
  uint64_t seed = 1;
  double intermittent_share = 0.1;  // items with mostly-zero sales
  double missing_share = 0.002;     // rows left out
  std::string start = "2015-01-01";
};

struct GenerateSummary {
  int64_t rows = 0, series = 0;
};

GenerateSummary Generate(const GenerateOptions& options);

}  // namespace mm
