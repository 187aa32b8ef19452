// A combination of fitted models: the forecast (and each interval bound) is the mean, the median or a weighted
// mean of the members' at each step. Built by model selection (`--ensemble mean|median`, and `auto`'s weights from
// its validation windows), saved and loaded like any model.
#pragma once

#include <memory>
#include <vector>

#include "manymodels/core/model.h"

namespace mm {

enum class Combination { kMean, kMedian, kWeighted };

// `weights` (one per member, positive; they need not sum to 1) only with kWeighted.
std::unique_ptr<FittedModel> MakeEnsemble(std::vector<std::unique_ptr<FittedModel>> members, Combination how,
                                          std::vector<double> weights = {});
// Combines forecasts of equal length step by step (`weights` as for MakeEnsemble). Bounds the members leave
// empty (point forecasts alone, as validation makes them) are empty in the result.
Forecast CombineForecasts(const std::vector<Forecast>& members, Combination how,
                          const std::vector<double>& weights = {});

// The Method behind "ensemble" in the registry: it loads saved ensembles; fitting one directly is an error.
const Method& EnsembleMethod();

// The family a model is counted under in summaries and reports: "failed", the method's name, or for an
// ensemble its combination and members without their parameters ("Median(ETS(A,N,A)+SNaive(7))" ->
// "Median(ETS+SNaive)"; a weighted mean reads "Weighted(...)", its weights are in Describe()).
std::string ModelFamily(std::string_view method, std::string_view label, bool failed);

}  // namespace mm
