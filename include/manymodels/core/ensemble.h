// A combination of fitted models: the forecast (and each interval bound) is the mean or the median of the
// members' at each step. Built by model selection (`--ensemble mean|median`), saved and loaded like any model.
#pragma once

#include <memory>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

enum class Combination { kMean, kMedian };

std::unique_ptr<FittedModel> MakeEnsemble(std::vector<std::unique_ptr<FittedModel>> members, Combination how);
// Combines forecasts of equal length step by step.
Forecast CombineForecasts(const std::vector<Forecast>& members, Combination how);
// The same for point forecasts alone (the `mean` of CombineForecasts).
std::vector<double> CombinePoints(const std::vector<std::vector<double>>& members, Combination how);

// The Method behind "ensemble" in the registry: it loads saved ensembles; fitting one directly is an error.
const Method& EnsembleMethod();

// The family a model is counted under in summaries and reports: "failed", the method's name, or for an
// ensemble its combination and members without their parameters ("Median(ETS(A,N,A)+SNaive(7))" ->
// "Median(ETS+SNaive)").
std::string ModelFamily(std::string_view method, std::string_view label, bool failed);

}  // namespace mm
