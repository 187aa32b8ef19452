#include "manymodels/core/ensemble.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mm {
namespace {

double Combine(std::vector<double>& v, Combination how, const std::vector<double>& weights) {
  if (how == Combination::kWeighted) {
    double s = 0, total = 0;
    for (size_t k = 0; k < v.size(); ++k) s += weights[k] * v[k], total += weights[k];
    return s / total;
  }
  if (how == Combination::kMean) {
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  }
  std::sort(v.begin(), v.end());
  const size_t k = v.size() / 2;
  return v.size() % 2 ? v[k] : 0.5 * (v[k - 1] + v[k]);
}

class EnsembleModel : public FittedModel {
 public:
  EnsembleModel(std::vector<std::unique_ptr<FittedModel>> members, Combination how, std::vector<double> weights)
      : members_(std::move(members)), how_(how), weights_(std::move(weights)) {}
  std::string_view method() const override { return "ensemble"; }
  std::string Label() const override {
    std::string s = how_ == Combination::kMean ? "Mean(" : how_ == Combination::kMedian ? "Median(" : "Weighted(";
    for (size_t i = 0; i < members_.size(); ++i) {
      if (i) s.push_back('+');
      s.append(members_[i]->Label());
    }
    s.push_back(')');
    return s;
  }
  Forecast Predict(int h) const override {
    std::vector<Forecast> f;
    for (const auto& m : members_) f.push_back(m->Predict(h));
    return CombineForecasts(f, how_, weights_);
  }
  // Every member updated on the same new values; the first member that cannot update makes the ensemble fail.
  FitOutcome Update(std::span<const double> new_values, const UpdateContext& ctx) const override {
    std::vector<std::unique_ptr<FittedModel>> members;
    for (const auto& m : members_) {
      FitOutcome u = m->Update(new_values, ctx);
      if (!u.model) return {nullptr, "ensemble member " + m->Label() + ": " + u.error};
      members.push_back(std::move(u.model));
    }
    return {std::make_unique<EnsembleModel>(std::move(members), how_, weights_), {}};
  }
  void Save(ByteWriter* w) const override {
    w->PutU8(how_ == Combination::kMean ? 0 : how_ == Combination::kMedian ? 1 : 2);
    w->PutU64(members_.size());
    for (const auto& m : members_) w->PutBytes(SaveModel(*m));
    for (double x : weights_) w->PutF64(x);
  }
  std::string Describe() const override {
    std::string s;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (!s.empty()) s.append("; ");
      s.append(members_[i]->Label());
      if (!weights_.empty()) s.append(" (weight ").append(FormatParameter(weights_[i])).append(")");
      s.append(": ").append(members_[i]->Describe());
    }
    return s;
  }

 private:
  std::vector<std::unique_ptr<FittedModel>> members_;
  Combination how_;
  std::vector<double> weights_;  // kWeighted: one per member
};

class Ensemble : public Method {
 public:
  std::string_view name() const override { return "ensemble"; }
  int MinObservations(const FitContext&) const override { return 2; }
  FitOutcome Fit(std::span<const double>, const FitContext&) const override {
    return {nullptr, "an ensemble is built by model selection (--ensemble), not fitted on its own"};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    const uint8_t code = in->GetU8();
    if (code > 2) throw std::runtime_error("ensemble: unknown combination in saved model");
    const Combination how = code == 0 ? Combination::kMean : code == 1 ? Combination::kMedian : Combination::kWeighted;
    std::vector<std::unique_ptr<FittedModel>> members(in->GetU64());
    if (members.empty()) throw std::runtime_error("ensemble: no members in saved model");
    for (auto& m : members) m = LoadModel(in->GetBytes());
    std::vector<double> weights;
    if (how == Combination::kWeighted)
      for (size_t i = 0; i < members.size(); ++i) {
        weights.push_back(in->GetF64());
        if (!(weights.back() > 0) || !std::isfinite(weights.back()))
          throw std::runtime_error("ensemble: a saved weight is not positive");
      }
    return std::make_unique<EnsembleModel>(std::move(members), how, std::move(weights));
  }
};

}  // namespace

std::unique_ptr<FittedModel> MakeEnsemble(std::vector<std::unique_ptr<FittedModel>> members, Combination how,
                                          std::vector<double> weights) {
  if ((how == Combination::kWeighted) != (weights.size() == members.size()))
    throw std::invalid_argument("MakeEnsemble: one weight per member with a weighted mean, none otherwise");
  return std::make_unique<EnsembleModel>(std::move(members), how, std::move(weights));
}

Forecast CombineForecasts(const std::vector<Forecast>& members, Combination how, const std::vector<double>& weights) {
  Forecast out;
  const size_t h = members.front().mean.size();
  out.Resize(h);
  std::vector<double> v(members.size());
  std::vector<double> Forecast::*fields[5] = {&Forecast::mean, &Forecast::lo80, &Forecast::hi80, &Forecast::lo95,
                                              &Forecast::hi95};
  for (auto field : fields) {
    if ((members.front().*field).empty()) {  // point forecasts alone (validation): the bounds stay empty
      (out.*field).clear();
      continue;
    }
    for (size_t i = 0; i < h; ++i) {
      for (size_t k = 0; k < members.size(); ++k) v[k] = (members[k].*field)[i];
      (out.*field)[i] = Combine(v, how, weights);
    }
  }
  return out;
}

const Method& EnsembleMethod() {
  static const Ensemble m;
  return m;
}

std::string ModelFamily(std::string_view method, std::string_view label, bool failed) {
  if (failed) return "failed";
  if (method != "ensemble") return std::string(method);
  std::string out;
  int depth = 0;
  for (char c : label) {
    if (c == '(') ++depth;
    if (depth <= 1) out.push_back(c);
    if (c == ')') --depth;
  }
  if (!out.empty() && out.back() != ')') out.push_back(')');
  return out;
}

}  // namespace mm
