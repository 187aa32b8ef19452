// The four benchmark methods: naive, seasonal naive, mean and drift (Hyndman & Athanasopoulos, FPP §5.2),
// with the usual normal prediction intervals from the residual standard deviation.
//
// Update (FittedModel::Update), sigma always fixed as fitted: naive takes the last new observation; snaive puts
// each new observation at its position of the cycle; mean updates the running mean, standard deviation and
// count; drift moves its last value on and keeps the slope what the method defines it to be, (last - first) /
// span over everything seen (not frozen). A missing new value is replaced by the model's forecast of it (naive,
// snaive, drift) or skipped (mean), so intervals do not widen for it.
#pragma once

#include "manymodels/core/model.h"

namespace mm {

const Method& NaiveMethod();
const Method& SeasonalNaiveMethod();
const Method& MeanMethod();
const Method& DriftMethod();

}  // namespace mm
