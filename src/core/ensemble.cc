#include "manymodels/core/ensemble.h"

#include <algorithm>
#include <stdexcept>

namespace mm {
namespace {

double Combine(std::vector<double>& v, Combination how) {
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
  EnsembleModel(std::vector<std::unique_ptr<FittedModel>> members, Combination how)
      : members_(std::move(members)), how_(how) {}
  std::string_view method() const override { return "ensemble"; }
  std::string Label() const override {
    std::string s = how_ == Combination::kMean ? "Mean(" : "Median(";
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
    return CombineForecasts(f, how_);
  }
  // Every member updated on the same new values; the first member that cannot update makes the ensemble fail.
  FitOutcome Update(std::span<const double> new_values, const UpdateContext& ctx) const override {
    std::vector<std::unique_ptr<FittedModel>> members;
    for (const auto& m : members_) {
      FitOutcome u = m->Update(new_values, ctx);
      if (!u.model) return {nullptr, "ensemble member " + m->Label() + ": " + u.error};
      members.push_back(std::move(u.model));
    }
    return {std::make_unique<EnsembleModel>(std::move(members), how_), {}};
  }
  void Save(ByteWriter* w) const override {
    w->PutU8(how_ == Combination::kMean ? 0 : 1);
    w->PutU64(members_.size());
    for (const auto& m : members_) w->PutBytes(SaveModel(*m));
  }
  std::string Describe() const override {
    std::string s;
    for (const auto& m : members_) {
      if (!s.empty()) s.append("; ");
      s.append(m->Label()).append(": ").append(m->Describe());
    }
    return s;
  }

 private:
  std::vector<std::unique_ptr<FittedModel>> members_;
  Combination how_;
};

class Ensemble : public Method {
 public:
  std::string_view name() const override { return "ensemble"; }
  int MinObservations(const FitContext&) const override { return 2; }
  FitOutcome Fit(std::span<const double>, const FitContext&) const override {
    return {nullptr, "an ensemble is built by model selection (--ensemble), not fitted on its own"};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override {
    const Combination how = in->GetU8() == 0 ? Combination::kMean : Combination::kMedian;
    std::vector<std::unique_ptr<FittedModel>> members(in->GetU64());
    if (members.empty()) throw std::runtime_error("ensemble: no members in saved model");
    for (auto& m : members) m = LoadModel(in->GetBytes());
    return std::make_unique<EnsembleModel>(std::move(members), how);
  }
};

}  // namespace

std::unique_ptr<FittedModel> MakeEnsemble(std::vector<std::unique_ptr<FittedModel>> members, Combination how) {
  return std::make_unique<EnsembleModel>(std::move(members), how);
}

namespace {
// Step i of the result combines step i of column(k) over the n members k.
template <typename Column>
std::vector<double> CombineSteps(size_t n, Column column, Combination how) {
  const size_t h = column(0).size();
  std::vector<double> out(h), v(n);
  for (size_t i = 0; i < h; ++i) {
    for (size_t k = 0; k < n; ++k) v[k] = column(k)[i];
    out[i] = Combine(v, how);
  }
  return out;
}
}  // namespace

Forecast CombineForecasts(const std::vector<Forecast>& members, Combination how) {
  Forecast out;
  for (auto field : {&Forecast::mean, &Forecast::lo80, &Forecast::hi80, &Forecast::lo95, &Forecast::hi95})
    out.*field = CombineSteps(
        members.size(), [&](size_t k) -> const std::vector<double>& { return members[k].*field; }, how);
  return out;
}

std::vector<double> CombinePoints(const std::vector<std::vector<double>>& members, Combination how) {
  return CombineSteps(members.size(), [&](size_t k) -> const std::vector<double>& { return members[k]; }, how);
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
