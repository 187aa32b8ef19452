#include "manymodels/core/pooled.h"

#include <ceres/ceres.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "manymodels/core/fourier.h"
#include "manymodels/core/metrics.h"
#include "manymodels/core/models_basic.h"
#include "manymodels/core/series.h"

namespace mm {
namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr int kMinObservations = 8;  // per member, in the fit
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void AddNote(std::string* note, const std::string& s) {
  if (!note->empty()) *note += "; ";
  *note += s;
}

// The shared regressors at period t for covariate values x (those used, raw): centred g(x), then per cycle
// and harmonic sin and cos. Harmonics by the Chebyshev recurrence, one sin and one cos per cycle.
void SharedRow(const PoolFit& f, double t, const double* x, double* row) {
  size_t c = 0;
  for (size_t j = 0; j < f.columns.size(); ++j) row[c++] = (f.log_x[j] ? std::log(x[j]) : x[j]) - f.center[j];
  for (size_t i = 0; i < f.cycles.size(); ++i) {
    const double a = kTwoPi * std::fmod(t, f.cycles[i]) / f.cycles[i];
    const double s1 = std::sin(a), c1 = std::cos(a);
    double s_prev = 0, c_prev = 1, s_k = s1, c_k = c1;
    for (int k = 1; k <= f.terms[i]; ++k) {
      row[c++] = s_k;
      row[c++] = c_k;
      const double s_next = 2 * c1 * s_k - s_prev, c_next = 2 * c1 * c_k - c_prev;
      s_prev = s_k, c_prev = c_k, s_k = s_next, c_k = c_next;
    }
  }
}

size_t SharedSize(const PoolFit& f) {
  size_t p = f.columns.size();
  for (int t : f.terms) p += 2 * static_cast<size_t>(t);
  return p;
}

// One member's observations in the fit: transformed target, tau, and the shared regressors (row-major).
struct MemberRows {
  size_t member = 0;
  std::vector<double> z, tau, shared;
  double delta = std::numeric_limits<double>::infinity();  // Huber threshold; infinite: least squares
  // Own deviations from the first `own` shared terms, in the member's block after (a, b), deviation k with a
  // normal prior of weight prior[k] (sigma / its spread): one more residual prior[k] * deviation k each.
  size_t own = 0;
  std::vector<double> prior;
};

// The residuals of one member: r = z - (a + b tau + S theta + S_own delta), each passed through Huber's loss
// as sign(r) sqrt(2 rho(r)), so that the half sum of squares Ceres minimises is the Huber objective; then the
// priors of its own deviations delta. Parameter blocks: the member's (a, b, delta), the shared theta.
class MemberCost : public ceres::CostFunction {
 public:
  MemberCost(const MemberRows* rows, int shared) : rows_(rows), p_(shared) {
    set_num_residuals(static_cast<int>(rows->z.size() + rows->own));
    mutable_parameter_block_sizes()->push_back(2 + static_cast<int>(rows->own));
    if (p_ > 0) mutable_parameter_block_sizes()->push_back(p_);
  }
  bool Evaluate(double const* const* params, double* residuals, double** jacobians) const override {
    const MemberRows& m = *rows_;
    const double a = params[0][0], b = params[0][1];
    const double* own = params[0] + 2;
    const double* theta = p_ > 0 ? params[1] : nullptr;
    const auto p = static_cast<size_t>(p_);
    const size_t width = 2 + m.own;  // the member block's size
    for (size_t r = 0; r < m.z.size(); ++r) {
      const double* s = m.shared.data() + r * p;
      double fit = a + b * m.tau[r];
      for (size_t c = 0; c < p; ++c) fit += s[c] * theta[c];
      for (size_t c = 0; c < m.own; ++c) fit += s[c] * own[c];
      const double e = m.z[r] - fit;
      double res = e, w = 1;  // w: d res / d e
      if (std::fabs(e) > m.delta) {
        res = std::copysign(std::sqrt(2 * m.delta * std::fabs(e) - m.delta * m.delta), e);
        w = m.delta / std::fabs(res);
      }
      residuals[r] = res;
      if (!jacobians) continue;
      if (jacobians[0]) {
        double* j = jacobians[0] + r * width;
        j[0] = -w, j[1] = -w * m.tau[r];
        for (size_t c = 0; c < m.own; ++c) j[2 + c] = -w * s[c];
      }
      if (p_ > 0 && jacobians[1])
        for (size_t c = 0; c < p; ++c) jacobians[1][r * p + c] = -w * s[c];
    }
    for (size_t k = 0; k < m.own; ++k) {
      const size_t r = m.z.size() + k;
      residuals[r] = m.prior[k] * own[k];
      if (!jacobians) continue;
      if (jacobians[0]) {
        std::fill(jacobians[0] + r * width, jacobians[0] + (r + 1) * width, 0.0);
        jacobians[0][r * width + 2 + k] = m.prior[k];
      }
      if (p_ > 0 && jacobians[1]) std::fill(jacobians[1] + r * p, jacobians[1] + (r + 1) * p, 0.0);
    }
    return true;
  }

 private:
  const MemberRows* rows_;
  int p_;
};

double Median(std::vector<double> v) {
  if (v.empty()) return kNaN;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

std::string DescribeFit(const PoolFit& f, const PoolFit::Block& b) {
  std::ostringstream s;
  s.precision(5);
  s << "level=" << b.a << ", slope=" << b.b << ", sigma=" << b.sigma << (f.log_scale ? " (log1p scale)" : "");
  for (size_t j = 0; j < f.columns.size(); ++j) {
    s << ", " << f.names[j] << (f.log_x[j] ? " elasticity=" : " effect=") << f.beta[j];
    if (j < b.own.size()) s << " (the group's) " << f.beta[j] + b.own[j] << " (this series')";
  }
  for (size_t i = 0; i < f.cycles.size(); ++i) s << ", cycle " << f.cycles[i] << ":" << f.terms[i];
  return s.str();
}

// "price elasticity -1.52, promo lift 0.31" (a lift as the relative change of y per unit of the covariate).
std::string EffectsText(const PoolFit& f) {
  std::ostringstream s;
  s.precision(3);
  for (size_t j = 0; j < f.columns.size(); ++j) {
    s << (j ? ", " : "") << f.names[j];
    if (f.log_scale && f.log_x[j])
      s << " elasticity " << f.beta[j];
    else if (f.log_scale)
      s << " lift " << std::expm1(f.beta[j]);
    else
      s << " effect " << f.beta[j];
  }
  return s.str();
}

class PooledFitted : public FittedModel {
 public:
  // `fit`'s shared parameters and member block; `origin`: the last period seen; `future`: covariate values of
  // the periods after it (per covariate used; the last carries on).
  PooledFitted(const PoolFit& fit, const PoolFit::Block& block, std::string group, int64_t origin,
               std::vector<std::vector<double>> future)
      : f_(fit), block_(block), group_(std::move(group)), origin_(origin), future_(std::move(future)) {
    f_.members.clear();  // the model holds its own block only
    f_.columns.assign(f_.names.size(), 0);
    for (size_t j = 0; j < f_.columns.size(); ++j) f_.columns[j] = j;
  }

  std::string_view method() const override { return "pooled"; }
  std::string Label() const override {
    std::string s = "Pooled(" + (group_.empty() ? std::string("alone") : group_);
    const std::string effects = EffectsText(f_);
    if (!effects.empty()) s += "; " + effects;
    return s + ")";
  }
  Forecast Predict(int h) const override {
    Forecast out;
    out.Resize(static_cast<size_t>(std::max(0, h)));
    std::vector<double> row(SharedSize(f_)), x(f_.columns.size());
    for (int i = 0; i < h; ++i) {
      const int64_t t = origin_ + 1 + i;
      for (size_t j = 0; j < x.size(); ++j) {
        const auto& v = future_[j];
        x[j] = v.empty() ? 0.0 : v[std::min(static_cast<size_t>(i), v.size() - 1)];
      }
      SharedRow(f_, static_cast<double>(t), x.data(), row.data());
      double z = block_.a + block_.b * static_cast<double>(t - block_.last) / block_.span;
      for (size_t c = 0; c < row.size(); ++c) z += row[c] * Theta(c);
      for (size_t c = 0; c < block_.own.size(); ++c) z += row[c] * block_.own[c];
      const double se = block_.sigma * std::sqrt(1.0 + (static_cast<double>(t - block_.last)) / block_.span);
      const double q[5] = {z, z - kZ80 * se, z + kZ80 * se, z - kZ95 * se, z + kZ95 * se};
      std::vector<double>* col[5] = {&out.mean, &out.lo80, &out.hi80, &out.lo95, &out.hi95};
      for (int k = 0; k < 5; ++k)
        (*col[k])[static_cast<size_t>(i)] = f_.log_scale ? std::max(0.0, std::expm1(q[k])) : q[k];
    }
    return out;
  }
  FitOutcome Update(std::span<const double> v, const UpdateContext& ctx) const override {
    if (std::string err = CheckUpdateValues(v, method()); !err.empty()) return {nullptr, err};
    const size_t k = v.size();
    if (k == 0 && ctx.covariates.empty()) return {std::make_unique<PooledFitted>(*this), {}};
    std::vector<std::vector<double>> future;
    if (std::string err = CovariatesAfterUpdate(ctx, f_.names, future_, f_.log_x, k, method(), &future); !err.empty())
      return {nullptr, err};
    auto m = std::make_unique<PooledFitted>(*this);
    m->origin_ += static_cast<int64_t>(k);
    m->future_ = std::move(future);
    return {std::move(m), {}};
  }
  void Save(ByteWriter* w) const override {
    w->PutString(group_);
    w->PutU8(f_.log_scale ? 1 : 0);
    w->PutF64s(f_.cycles);
    w->PutU64(f_.terms.size());
    for (int t : f_.terms) w->PutI64(t);
    w->PutU64(f_.names.size());
    for (size_t j = 0; j < f_.names.size(); ++j) w->PutString(f_.names[j]), w->PutU8(f_.log_x[j]);
    w->PutF64s(f_.center);
    w->PutF64s(f_.beta);
    w->PutF64s(f_.harmonics);
    for (double x : {block_.a, block_.b, block_.sigma, block_.span}) w->PutF64(x);
    w->PutI64(block_.last);
    w->PutI64(block_.n_obs);
    w->PutI64(origin_);
    for (const auto& v : future_) w->PutF64s(v);
    w->PutF64s(block_.own);
  }
  std::string Describe() const override {
    return (group_.empty() ? std::string("fitted alone") : "group " + group_) + ", " +
           DescribeFit(f_, block_);
  }
  static std::unique_ptr<FittedModel> Load(ByteReader* r) {
    PoolFit f;
    std::string group = r->GetString();
    f.log_scale = r->GetU8() != 0;
    f.cycles = r->GetF64s();
    f.terms.resize(r->GetU64());
    for (int& t : f.terms) t = static_cast<int>(r->GetI64());
    const uint64_t nx = r->GetU64();
    if (nx > 10000) throw std::runtime_error("pooled: inconsistent saved model");
    for (uint64_t j = 0; j < nx; ++j) f.names.push_back(r->GetString()), f.log_x.push_back(r->GetU8());
    f.columns.assign(nx, 0);
    f.center = r->GetF64s();
    f.beta = r->GetF64s();
    f.harmonics = r->GetF64s();
    PoolFit::Block b;
    for (double* x : {&b.a, &b.b, &b.sigma, &b.span}) *x = r->GetF64();
    b.last = r->GetI64();
    b.n_obs = r->GetI64();
    b.ok = true;
    const int64_t origin = r->GetI64();
    std::vector<std::vector<double>> future(nx);
    for (auto& v : future) v = r->GetF64s();
    b.own = r->GetF64s();
    if (f.terms.size() != f.cycles.size() || f.center.size() != nx || f.beta.size() != nx ||
        f.harmonics.size() != SharedSize(f) - nx || !(b.span > 0) || b.own.size() > SharedSize(f))
      throw std::runtime_error("pooled: inconsistent saved model");
    return std::make_unique<PooledFitted>(f, b, std::move(group), origin, std::move(future));
  }

 private:
  double Theta(size_t c) const { return c < f_.beta.size() ? f_.beta[c] : f_.harmonics[c - f_.beta.size()]; }

  PoolFit f_;  // shared parameters (columns renumbered 0.. in the order of names)
  PoolFit::Block block_;
  std::string group_;
  int64_t origin_;
  std::vector<std::vector<double>> future_;
};

// Member k's covariate j filled (carried forward and back) over [0, length) of its own positions.
std::vector<double> Filled(const PoolMember& m, size_t j, size_t length) {
  return FilledCovariate(m.covariates[j], length);
}

// The last observed position of y before position `end` (exclusive), or -1.
int64_t LastObserved(std::span<const double> y, int64_t end) {
  for (int64_t i = std::min<int64_t>(end, static_cast<int64_t>(y.size())) - 1; i >= 0; --i)
    if (std::isfinite(y[static_cast<size_t>(i)])) return i;
  return -1;
}

// One Ceres solve of the group's rows (the blocks' a, b and theta updated in place). Returns Ceres' outcome
// text; `ok` false when it failed.
// `blocks`: the members' blocks, member i's at i * stride, in one array: Ceres orders the blocks it
// eliminates by their addresses, so that order (and the bits of the solution) is the members' order on every
// run.
std::string Solve(std::vector<MemberRows>& rows, std::vector<double>& blocks, size_t stride,
                  std::vector<double>& theta, bool* ok) {
  ceres::Problem problem;
  const int p = static_cast<int>(theta.size());
  auto ordering = std::make_shared<ceres::ParameterBlockOrdering>();
  for (size_t i = 0; i < rows.size(); ++i) {
    double* mine = blocks.data() + i * stride;
    std::vector<double*> parameters = {mine};
    if (p > 0) parameters.push_back(theta.data());
    problem.AddResidualBlock(new MemberCost(&rows[i], p), nullptr, parameters);
    ordering->AddElementToGroup(mine, 0);
  }
  ceres::Solver::Options o;
  if (p > 0 && rows.size() > 1) {
    ordering->AddElementToGroup(theta.data(), 1);
    o.linear_solver_type = ceres::DENSE_SCHUR;
    o.linear_solver_ordering = ordering;
  } else {
    o.linear_solver_type = ceres::DENSE_QR;
  }
  o.num_threads = 1;
  o.max_num_iterations = 100;
  o.function_tolerance = 1e-12;
  o.gradient_tolerance = 1e-14;
  o.parameter_tolerance = 1e-12;
  o.logging_type = ceres::SILENT;
  ceres::Solver::Summary summary;
  ceres::Solve(o, &problem, &summary);
  bool finite = std::isfinite(summary.final_cost);
  for (double x : blocks) finite = finite && std::isfinite(x);
  for (double v : theta) finite = finite && std::isfinite(v);
  *ok = summary.IsSolutionUsable() && finite;
  return std::to_string(summary.iterations.size()) + " iterations, " +
         ceres::TerminationTypeToString(summary.termination_type);
}

}  // namespace

bool PoolOptions::IsValid(std::string* error) const {
  auto fail = [&](const std::string& what) {
    if (error) *error = "PoolOptions::" + what;
    return false;
  };
  if (horizon < 1) return fail("horizon = " + std::to_string(horizon) + ": must be at least 1");
  if (min_series < 1) return fail("min_series = " + std::to_string(min_series) + ": must be at least 1");
  if (max_history < 0)
    return fail("max_history = " + std::to_string(max_history) + ": must be 0 (all) or more");
  if (!(huber_k > 0)) return fail("huber_k must be positive");
  for (double m : season_lengths)
    if (!(m >= 1) || !std::isfinite(m)) return fail("season_lengths: each at least 1 and finite");
  return true;
}

PoolFit FitPool(std::span<const PoolMember> members, int64_t cut, const PoolOptions& opt) {
  return FitPool(members, std::vector<int64_t>(members.size(), cut), opt);
}

PoolFit FitPool(std::span<const PoolMember> members, std::span<const int64_t> cuts, const PoolOptions& opt) {
  PoolFit f;
  f.members.resize(members.size());
  std::vector<int64_t> froms(members.size());
  // 1. Which members have enough observations in [from, cut), and the scale.
  size_t usable = 0;
  int64_t longest = 0;
  bool negative = false;
  for (size_t i = 0; i < members.size(); ++i) {
    const PoolMember& m = members[i];
    PoolFit::Block& b = f.members[i];
    const int64_t cut = cuts[i], from = froms[i] = opt.max_history > 0 ? cut - opt.max_history : INT64_MIN;
    b.cut = cut;
    const int64_t end = std::clamp<int64_t>(cut - m.start, 0, static_cast<int64_t>(m.y.size()));
    const int64_t begin = std::clamp<int64_t>(from - m.start, 0, end);
    int64_t first = -1;
    for (int64_t t = begin; t < end; ++t) {
      const double v = m.y[static_cast<size_t>(t)];
      if (std::isinf(v)) {
        b.error = "an infinite value";
        break;
      }
      if (std::isnan(v)) continue;
      if (first < 0) first = t;
      b.last = t;
      ++b.n_obs;
      negative = negative || v < 0;
    }
    if (b.error.empty() && b.n_obs < kMinObservations)
      b.error = std::to_string(b.n_obs) + " observations before the cut (pooled needs " +
                std::to_string(kMinObservations) + ")";
    if (!b.error.empty()) {
      b.n_obs = 0;
      continue;
    }
    b.ok = true;
    b.span = static_cast<double>(std::max<int64_t>(1, b.last - first));
    longest = std::max(longest, b.last - first + 1);
    b.last += m.start;  // on the group's clock from here
    ++usable;
  }
  for (size_t i = 0; i < members.size(); ++i)
    if (!f.members[i].ok && members.size() > 1)
      AddNote(&f.note, "member " + std::to_string(i + 1) + " left out: " + f.members[i].error);
  if (usable == 0) {
    f.error = members.size() == 1 ? f.members[0].error : "no member has enough observations";
    return f;
  }
  f.log_scale = !negative;

  // 2. The shared terms: covariates that vary within some series, cycles that fit twice in the longest
  // history.
  const size_t nx = opt.covariate_names.size();
  std::vector<std::vector<std::vector<double>>> filled(members.size());  // [member][covariate]
  for (size_t i = 0; i < members.size(); ++i) {
    if (!f.members[i].ok) continue;
    const size_t length = static_cast<size_t>(f.members[i].last - members[i].start + 1);
    for (size_t j = 0; j < nx; ++j)
      filled[i].push_back(j < members[i].covariates.size() ? Filled(members[i], j, length)
                                                           : std::vector<double>(length, kNaN));
  }
  auto in_fit = [&](size_t i, size_t t) {  // position t of member i is an observation of the fit
    const int64_t p = members[i].start + static_cast<int64_t>(t);
    return p >= froms[i] && p <= f.members[i].last && std::isfinite(members[i].y[t]);
  };
  for (size_t j = 0; j < nx; ++j) {
    bool known = true, positive = true, binary = true;
    for (size_t i = 0; i < members.size(); ++i) {
      if (!f.members[i].ok) continue;
      for (size_t t = 0; t < filled[i][j].size(); ++t) {
        if (!in_fit(i, t)) continue;
        const double x = filled[i][j][t];
        known = known && std::isfinite(x);
        positive = positive && x > 0;
        binary = binary && (x == 0 || x == 1);
      }
    }
    const std::string& name = opt.covariate_names[j];
    if (!known) {
      AddNote(&f.note, name + " left out: unknown for a series");
      continue;
    }
    const bool log_x = f.log_scale && positive && !binary;
    // Variation within series (across series it is the levels'): the pooled within-series variance.
    double within = 0, total = 0, sum = 0, count = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      if (!f.members[i].ok) continue;
      double s = 0, s2 = 0, n = 0;
      for (size_t t = 0; t < filled[i][j].size(); ++t) {
        if (!in_fit(i, t)) continue;
        const double g = log_x ? std::log(filled[i][j][t]) : filled[i][j][t];
        s += g, s2 += g * g, ++n;
      }
      within += s2 - s * s / n;
      total += s2, sum += s, count += n;
    }
    if (!(within > 1e-12 * std::max(1.0, total))) {
      AddNote(&f.note, name + " left out: constant within every series");
      continue;
    }
    f.columns.push_back(j);
    f.names.push_back(name);
    f.log_x.push_back(log_x ? 1 : 0);
    f.center.push_back(sum / count);
  }
  for (double m : opt.season_lengths)
    if (m > 1.5 && 2 * m <= static_cast<double>(longest))
      f.cycles.push_back(m), f.terms.push_back(FourierTerms(m));
  const size_t p = SharedSize(f);

  // 3. The rows of each usable member.
  std::vector<MemberRows> rows;
  // Per usable member: a, b, then its own deviations (stage 2).
  const size_t stride = 2 + p;
  std::vector<double> ab;
  std::vector<double> x(f.columns.size());
  for (size_t i = 0; i < members.size(); ++i) {
    PoolFit::Block& b = f.members[i];
    if (!b.ok) continue;
    MemberRows r;
    r.member = i;
    for (size_t t = 0; static_cast<int64_t>(t) <= b.last - members[i].start; ++t) {
      if (!in_fit(i, t)) continue;
      const double y = members[i].y[t];
      const int64_t period = members[i].start + static_cast<int64_t>(t);
      r.z.push_back(f.log_scale ? std::log1p(y) : y);
      r.tau.push_back(static_cast<double>(period - b.last) / b.span);
      for (size_t j = 0; j < f.columns.size(); ++j) x[j] = filled[i][f.columns[j]][t];
      r.shared.resize(r.shared.size() + p);
      SharedRow(f, static_cast<double>(period), x.data(), r.shared.data() + r.shared.size() - p);
    }
    double mean = 0;
    for (double z : r.z) mean += z;
    ab.resize(ab.size() + stride, 0.0);
    ab[ab.size() - stride] = mean / static_cast<double>(r.z.size());
    rows.push_back(std::move(r));
  }

  // 4. Least squares with every effect shared, then Huber with each member's threshold from its residuals'
  // MAD,
  //    and (opt.spread > 0, log scale) each member's own deviations from the covariates' shared effects.
  std::vector<double> theta(p, 0.0);
  bool ok = false;
  f.solver = "least squares: " + Solve(rows, ab, stride, theta, &ok);
  // Own deviations: from the covariates' effects with opt.spread, from the cycles' shape with
  // opt.season_spread (log scale only; a spread of 0 shares those terms wholly). A group of one has nothing
  // to deviate from: its shared terms are its own.
  const bool deviate = opt.spread > 0 && f.log_scale && rows.size() > 1;
  const size_t own = !deviate ? 0 : opt.season_spread > 0 ? p : f.columns.size();
  if (ok) {
    for (size_t i = 0; i < rows.size(); ++i) {
      MemberRows& r = rows[i];
      std::vector<double> abs_res;
      for (size_t t = 0; t < r.z.size(); ++t) {
        double fit = ab[i * stride] + ab[i * stride + 1] * r.tau[t];
        for (size_t c = 0; c < p; ++c) fit += r.shared[t * p + c] * theta[c];
        abs_res.push_back(std::fabs(r.z[t] - fit));
      }
      const double mad = 1.4826 * Median(abs_res);
      r.delta = mad > 0 ? opt.huber_k * mad : std::numeric_limits<double>::infinity();
      r.own = own;
      r.prior.clear();
      for (size_t c = 0; c < own; ++c)
        r.prior.push_back(std::max(mad, 1e-3) / (c < f.columns.size() ? opt.spread : opt.season_spread));
    }
    f.solver += "; Huber: " + Solve(rows, ab, stride, theta, &ok);
  }
  if (!ok) {
    f.error = "Ceres found no usable solution (" + f.solver + ")";
    return f;
  }
  f.beta.assign(theta.begin(), theta.begin() + static_cast<std::ptrdiff_t>(f.columns.size()));
  f.harmonics.assign(theta.begin() + static_cast<std::ptrdiff_t>(f.columns.size()), theta.end());
  for (size_t i = 0; i < rows.size(); ++i) {
    const MemberRows& r = rows[i];
    PoolFit::Block& b = f.members[r.member];
    const auto mine = ab.begin() + static_cast<std::ptrdiff_t>(i * stride);
    b.a = mine[0], b.b = mine[1];
    b.own.assign(mine + 2, mine + 2 + static_cast<std::ptrdiff_t>(r.own));
    double sse = 0;
    for (size_t t = 0; t < r.z.size(); ++t) {
      double fit = b.a + b.b * r.tau[t];
      for (size_t c = 0; c < p; ++c) fit += r.shared[t * p + c] * theta[c];
      for (size_t c = 0; c < r.own; ++c) fit += r.shared[t * p + c] * b.own[c];
      sse += (r.z[t] - fit) * (r.z[t] - fit);
    }
    b.sigma = std::sqrt(sse / static_cast<double>(std::max<size_t>(1, r.z.size() - 2)));
  }
  return f;
}

std::unique_ptr<FittedModel> PooledModel(const PoolFit& fit, size_t k, const PoolMember& member,
                                         const std::string& group) {
  const PoolFit::Block& b = fit.members.at(k);
  // Covariate values after the last observation used, to the end of what the member knows (at least one).
  std::vector<std::vector<double>> future;
  const auto last = static_cast<size_t>(b.last - member.start);
  for (size_t u = 0; u < fit.columns.size(); ++u) {
    std::vector<double> x(member.covariates[fit.columns[u]].begin(), member.covariates[fit.columns[u]].end());
    if (fit.log_x[u])  // a value whose log the model cannot take counts as unknown, as in an update
      for (double& z : x) z = z > 0 ? z : kNaN;
    const std::vector<double> v = FilledCovariate(x, std::max(x.size(), last + 2));
    future.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(last + 1), v.end());
  }
  return std::make_unique<PooledFitted>(fit, b, group, b.last, std::move(future));
}

namespace {

// Member k's result from the group's fits with its holdout cut off and on all its data (each possibly of the
// member alone).
SeriesResult MemberResult(const PoolMember& m, const PoolFit& valid, size_t kv, const PoolFit& final,
                          size_t kf, const PoolOptions& opt, const std::string& group, std::string note) {
  SeriesResult r;
  const int h = opt.horizon;
  const IndexRange obs = ObservedRange(m.y);
  const std::span<const double> y = m.y.subspan(obs.begin, obs.size());
  if (!final.error.empty() || !final.members[kf].ok) {
    // Nothing pooled can fit: the naive forecast, as FitSeries makes it.
    SelectOptions so;
    so.candidates = {&NaiveMethod()};
    so.context.horizon = h;
    so.context.season_lengths = opt.season_lengths;
    r = FitSeries(y, so);
    AddNote(&note, "pooled failed: " + (final.error.empty() ? final.members[kf].error : final.error) +
                       "; fell back to naive");
    if (!r.note.empty()) AddNote(&note, r.note);
    r.note = note;
    return r;
  }
  const auto model = PooledModel(final, kf, m, group);
  const auto known = static_cast<size_t>(final.members[kf].last - m.start + 1);  // periods up to its last
  for (size_t u = 0; u < final.columns.size(); ++u) {
    const std::string unknown = UnknownFutureNote(m.covariates[final.columns[u]], known,
                                                  static_cast<size_t>(h), "pooled", final.names[u]);
    if (!unknown.empty()) AddNote(&note, unknown);
  }
  r.method = "pooled";
  r.label = model->Label();
  r.model = SaveModel(*model);
  r.forecast = model->Predict(h);
  r.n_obs = final.members[kf].n_obs;
  // Validation: the periods [valid_cut, valid_cut + h) of the member, forecast from the fit before them.
  const int64_t valid_cut = valid.members[kv].cut;
  const int64_t lo = valid_cut - m.start;  // position of the first held-out period in m.y
  if (valid.error.empty() && valid.members[kv].ok && lo > 0 && lo < static_cast<int64_t>(m.y.size())) {
    const auto vm = PooledModel(valid, kv, m, group);
    const int64_t skip = valid_cut - 1 - valid.members[kv].last;  // periods between its last and the cut
    const std::vector<double> f = vm->PredictMean(static_cast<int>(skip) + h);
    const size_t n = std::min(static_cast<size_t>(h), m.y.size() - static_cast<size_t>(lo));
    const std::span<const double> actual = m.y.subspan(static_cast<size_t>(lo), n);
    if (CountFinite(actual) > 0) {
      const auto first = m.y.begin() + static_cast<std::ptrdiff_t>(obs.begin);
      const std::vector<double> history(first, m.y.begin() + lo);
      const int period =
          std::max(1, static_cast<int>(std::lround(opt.season_lengths.empty() ? 1 : opt.season_lengths[0])));
      r.metrics = ComputeMetrics(actual, std::span<const double>(f).subspan(static_cast<size_t>(skip), n),
                                 MaseScale(history, period));
    }
  }
  if (!std::isfinite(r.metrics.mae))
    AddNote(&note,
            "not validated: " + (valid.error.empty()
                                     ? (valid.members[kv].ok ? std::string("no observation in the holdout")
                                                             : valid.members[kv].error)
                                     : valid.error));
  r.note = note;
  return r;
}

}  // namespace

std::vector<SeriesResult> FitPooledGroup(std::span<const PoolMember> members, const PoolOptions& opt) {
  // The fits on all data (each member's up to the group's last observation), and those without each member's
  // own last `horizon` periods (as FitSeries holds out; the same cut for all when the members end together).
  int64_t end = std::numeric_limits<int64_t>::min();  // one past the group's last observation
  std::vector<int64_t> holdouts(members.size());
  for (size_t k = 0; k < members.size(); ++k) {
    const int64_t last = LastObserved(members[k].y, static_cast<int64_t>(members[k].y.size()));
    holdouts[k] = last >= 0 ? members[k].start + last + 1 - opt.horizon : 0;  // 0: nothing to fit anyway
    if (last >= 0) end = std::max(end, members[k].start + last + 1);
  }
  if (end == INT64_MIN) end = 0;  // no observation at all: every member falls back
  const std::vector<int64_t> ends(members.size(), end);
  std::vector<SeriesResult> out(members.size());
  std::string group_note;
  if (members.size() >= static_cast<size_t>(opt.min_series)) {
    const PoolFit valid = FitPool(members, holdouts, opt);
    const PoolFit final = FitPool(members, ends, opt);
    if (final.error.empty()) {
      for (size_t k = 0; k < members.size(); ++k)
        if (final.members[k].ok)
          out[k] = MemberResult(members[k], valid, k, final, k, opt, opt.group,
                                final.note.empty() ? "" : "group: " + final.note);
    } else {
      group_note = "pooled: the group " + opt.group + " could not be fitted jointly (" + final.error +
                   "); fitted alone";
    }
  } else {
    group_note = "pooled: the group " + opt.group + " has " + std::to_string(members.size()) +
                 " series (fewer than " + std::to_string(opt.min_series) + "); fitted alone";
  }
  // Members not pooled: each a group of one.
  for (size_t k = 0; k < members.size(); ++k) {
    if (!out[k].method.empty()) continue;
    PoolOptions alone = opt;
    alone.min_series = 1;
    const std::span<const PoolMember> one(&members[k], 1);
    const PoolFit valid = FitPool(one, holdouts[k], alone), final = FitPool(one, end, alone);
    out[k] =
        MemberResult(members[k], valid, 0, final, 0, alone, "",
                     group_note.empty() ? "pooled: left out of the group's fit; fitted alone" : group_note);
  }
  return out;
}

std::vector<FittedMember> PooledMembers(std::span<const PoolMember> members, const PoolOptions& opt,
                                        int windows) {
  std::vector<FittedMember> out(members.size());
  if (members.size() < static_cast<size_t>(opt.min_series)) return out;
  int64_t end = std::numeric_limits<int64_t>::min();  // one past the group's last observation
  std::vector<int64_t> ends(members.size(), 0);       // one past each member's last observation (0: none)
  for (size_t k = 0; k < members.size(); ++k) {
    const int64_t last = LastObserved(members[k].y, static_cast<int64_t>(members[k].y.size()));
    if (last >= 0) ends[k] = members[k].start + last + 1, end = std::max(end, ends[k]);
  }
  if (end == INT64_MIN) return out;
  // Window w (1 = the latest): each member's periods [e_k - w h, e_k - (w - 1) h), forecast from a group fit
  // before them: fitted for the oldest window and used for the later ones (the model is a function of time
  // and covariates: its forecast from a later origin is its forecast of those periods), while FitSeries' rule
  // would bring a member's model forward (RollsForward: the periods since the fit a small share of those
  // fitted), else fitted again. A member left out of a window's fit forecasts no older window (FitSeries uses
  // the latest ones).
  std::vector<std::vector<std::vector<double>>> forecasts(members.size(),
                                                          std::vector<std::vector<double>>(windows));
  PoolFit fit;
  fit.error = "not fitted yet";
  std::vector<double> cycles;  // those of the oldest window's fit
  bool oldest = true;
  for (int w = windows; w >= 1; --w) {
    std::vector<int64_t> cuts(members.size());
    for (size_t k = 0; k < members.size(); ++k) cuts[k] = ends[k] - static_cast<int64_t>(w) * opt.horizon;
    bool refit = !fit.error.empty();
    for (size_t k = 0; k < members.size() && !refit; ++k)
      refit = fit.members[k].ok && !RollsForward(static_cast<double>(fit.members[k].span + 1),
                                                 static_cast<double>(cuts[k] - fit.members[k].cut));
    if (refit) fit = FitPool(members, cuts, opt);
    if (!fit.error.empty()) continue;
    if (oldest) cycles = fit.cycles, oldest = false;
    for (size_t k = 0; k < members.size(); ++k) {
      if (!fit.members[k].ok) continue;
      const int64_t skip = cuts[k] - 1 - fit.members[k].last;  // periods between its last and the cut
      std::vector<double> f =
          PooledModel(fit, k, members[k], opt.group)->PredictMean(static_cast<int>(skip) + opt.horizon);
      f.erase(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(skip));
      forecasts[k][static_cast<size_t>(w - 1)] = std::move(f);
    }
  }
  // The model. While the rule would bring the latest window's fit forward to every member's end as well, that
  // fit, its origin moved to the end (Update; every parameter stays): on long histories one joint fit serves
  // the windows and the model (bench/ACCURACY.md: the generated panel's CPU 8.9 -> 4.7 s, MASE 0.660 ->
  // 0.661). Otherwise the group fitted on all periods, without a cycle after the first that the oldest
  // window's fit did not have (one that did not fit twice there was judged by no window: NN5's yearly cycle
  // in two years of days).
  std::vector<std::unique_ptr<FittedModel>> models(members.size());
  bool reuse = fit.error.empty();
  for (size_t k = 0; k < members.size() && reuse; ++k)
    reuse = !fit.members[k].ok || RollsForward(static_cast<double>(fit.members[k].span + 1),
                                               static_cast<double>(ends[k] - fit.members[k].cut));
  if (reuse) {
    for (size_t k = 0; k < members.size(); ++k) {
      if (!fit.members[k].ok) continue;
      const auto from = static_cast<size_t>(fit.members[k].last - members[k].start + 1);
      const auto to = static_cast<size_t>(ends[k] - members[k].start);
      UpdateContext uc;
      uc.horizon = opt.horizon;
      uc.covariate_names = opt.covariate_names;
      for (const auto& x : members[k].covariates) {
        const size_t b = std::min(from, x.size());
        uc.covariates.push_back(
            x.subspan(b, std::min(to - from + static_cast<size_t>(opt.horizon), x.size() - b)));
      }
      models[k] =
          PooledModel(fit, k, members[k], opt.group)->Update(members[k].y.subspan(from, to - from), uc).model;
    }
  } else {
    PoolOptions whole = opt;
    if (!oldest) {
      whole.season_lengths.clear();
      for (size_t i = 0; i < opt.season_lengths.size(); ++i)
        if (i == 0 || std::find(cycles.begin(), cycles.end(), opt.season_lengths[i]) != cycles.end())
          whole.season_lengths.push_back(opt.season_lengths[i]);
    }
    const PoolFit final = FitPool(members, end, whole);
    if (!final.error.empty()) return out;
    for (size_t k = 0; k < members.size(); ++k)
      if (final.members[k].ok) models[k] = PooledModel(final, k, members[k], opt.group);
  }
  for (size_t k = 0; k < members.size(); ++k) {
    if (!models[k]) continue;
    out[k].method = &PooledMethod();
    out[k].model = SaveModel(*models[k]);
    for (auto& f : forecasts[k]) {
      if (f.empty()) break;
      out[k].windows.push_back(std::move(f));
    }
  }
  return out;
}

namespace {

class Pooled : public Method {
 public:
  std::string_view name() const override { return "pooled"; }
  int MinObservations(const FitContext&) const override { return kMinObservations; }
  double RelativeCost() const override { return 5.0; }
  FitOutcome Fit(std::span<const double> y, const FitContext& ctx) const override {
    PoolMember m;
    m.y = y;
    m.covariates = ctx.covariates;
    PoolOptions o;
    o.season_lengths = ctx.season_lengths;
    o.horizon = ctx.horizon;
    o.min_series = 1;
    for (size_t j = 0; j < ctx.covariates.size(); ++j) o.covariate_names.push_back(CovariateName(ctx, j));
    const PoolFit fit = FitPool(std::span<const PoolMember>(&m, 1), static_cast<int64_t>(y.size()), o);
    if (!fit.error.empty()) return {nullptr, "pooled: " + fit.error};
    return {PooledModel(fit, 0, m, ""), {}};
  }
  std::unique_ptr<FittedModel> Load(ByteReader* in) const override { return PooledFitted::Load(in); }
};

}  // namespace

const Method& PooledMethod() {
  static const Pooled m;
  return m;
}

}  // namespace mm
