// The four benchmark methods: naive, seasonal naive, mean and drift (Hyndman & Athanasopoulos, FPP §5.2),
// with the usual normal prediction intervals from the residual standard deviation.
#pragma once

#include "manymodels/core/model.h"

namespace mm {

const Method& NaiveMethod();
const Method& SeasonalNaiveMethod();
const Method& MeanMethod();
const Method& DriftMethod();

}  // namespace mm
