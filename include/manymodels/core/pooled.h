// "pooled": one model fitted jointly across the series of a group (the items of a store), as one robust
// nonlinear least-squares problem solved by Ceres. On z = log1p(y) for a non-negative target (y itself
// otherwise):
//   z_it = a_i + b_i tau_it + sum_c (beta_c + d_ic) g_c(x_ict)
//          + sum_m sum_k ((u_mk + d_imk) sin + (v_mk + e_imk) cos)(2 pi k t / m) + eps_it
// Each series keeps its own level a_i and trend b_i (tau: periods since its last observation in the fit, over
// the span it was observed). The covariate effects beta (an elasticity for a covariate that is always
// positive and not 0/1, entered as log x; a lift for indicators and shares, entered as x) and the shape of
// every cycle of season_lengths that fits twice in the history (u, v; t is the group's common period clock)
// belong to the group, and each series deviates from them by d_i, shrunk by a normal prior (standard
// deviation `spread` for the covariates, `season_spread` for the harmonics; log scale only): partial pooling,
// so a short series borrows the group's elasticity and shape and a long one keeps its own where its data say
// so. Covariates constant within every series (collinear with the levels) are left out.
//
// The loss is Huber's, per observation, with its threshold at huber_k robust standard deviations of each
// series' residuals (their MAD after a first solve by least squares with every term shared). Ceres'
// LossFunction acts on a whole residual block, so the robust loss lives inside the cost function: each
// residual e becomes sign(e) sqrt(2 rho(e)) with rho Huber's, and its Jacobian row is scaled by the exact
// derivative (delta / |residual| beyond the threshold), so that Ceres minimises the Huber objective itself
// (not Triggs' correction, whose cost with rho'' < 0 clamped is no longer the objective). One residual block
// per series, touching its own block (a_i, b_i, d_i) and the shared block: Ceres' Schur solver (DENSE_SCHUR:
// the reduced system is the shared block, small and dense, since every series touches all of it) eliminates
// the series' blocks. One Ceres thread: the same data in the same order gives the same bits on any rank.
//
// Forecasts: expm1 of the log-scale forecast, normal intervals on the log scale from the series' residual
// standard deviation (widening slowly with the distance from the data, as `fourier`), all clipped at 0 for a
// non-negative target. Update (FittedModel::Update): a function of time and covariates, so all parameters
// stay and the origin moves on by the new periods; the covariates' future values come from UpdateContext by
// name (unknown ones carry the last known value forward); a covariate the model uses that the context lacks
// is an error. A saved model holds its own (a, b, d, sigma) and the group's shared parameters: it stands
// alone.
//
// The Method fits a series alone (a group of one: the same model with its own effects), as `--models pooled`
// without --pool-by, or for a group too small to pool. `train --pool-by` fits groups with FitPooledGroup.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "manymodels/core/model.h"
#include "manymodels/core/select.h"

namespace mm {

const Method& PooledMethod();

// One series of a group.
struct PoolMember {
  int64_t start = 0;          // period of y[0] on the group's clock (the lake's period index)
  std::span<const double> y;  // NaN = missing; may end with NaN (rows holding future covariates only)
  // Aligned with y from its start; values past the last observation are known future values; shorter columns
  // carry their last value forward. One per PoolOptions::covariate_names.
  std::vector<std::span<const double>> covariates;
};

struct PoolOptions {
  std::vector<double> season_lengths = {1};  // cycles to consider
  std::vector<std::string> covariate_names;  // of PoolMember::covariates, for labels and updates
  int horizon = 1;
  int64_t max_history = 0;  // periods before the cut the fit uses at most (0: all)
  int min_series = 5;       // a smaller group is not pooled: FitPooledGroup fits each member alone
  double huber_k = 1.345;   // Huber threshold, in robust standard deviations of each series' residuals
  // Prior standard deviation of a series' own deviation from each covariate's shared effect (log scale: 0.5
  // lets an elasticity of -1.5 be -1 or -2 where the series' own data say so); 0: the effects are wholly
  // shared.
  double spread = 0.5;
  // The same for the cycles' shape (each harmonic's sin and cos coefficient; used only with spread > 0): 0
  // shares the shape wholly.
  double season_spread = 0.1;
  std::string group;  // the group as labels and notes name it: "store=3"
  // What the fit is allowed: each of these is checked by IsValid.
  bool IsValid(std::string* error) const;
};

// The joint fit of a group, each member on its periods before its cut.
struct PoolFit {
  std::string error;  // non-empty: no joint fit (too few usable series, solver failure)
  std::string note;   // covariates left out, members left out and why
  // Shared parameters.
  bool log_scale = true;
  std::vector<double> cycles;
  std::vector<int> terms;
  std::vector<size_t> columns;  // covariates used, as indices into PoolMember::covariates
  std::vector<std::string> names;
  std::vector<uint8_t> log_x;     // 1: enters as log x (an elasticity), 0: as x (a lift)
  std::vector<double> center;     // mean of each entered covariate over the fit, subtracted
  std::vector<double> beta;       // per covariate used
  std::vector<double> harmonics;  // per cycle and harmonic: sin, cos
  // Each member's own block; ok = false when it was left out (error says why).
  struct Block {
    bool ok = false;
    std::string error;
    int64_t cut = 0;  // the member's periods before this one were fitted
    double a = 0, b = 0, sigma = 0;
    int64_t last = 0;  // the last observed period used
    double span = 1;   // periods from its first observation used to `last`, at least 1 (tau's unit)
    int64_t n_obs = 0;
    // Its own deviations from the shared terms' coefficients: the covariates', then (if any) the harmonics'.
    std::vector<double> own;
  };
  std::vector<Block> members;
  std::string solver;  // Ceres' outcome: iterations and termination of each solve
};

// Never throws for bad data: a group that cannot be fitted jointly is a PoolFit with an error. `cuts`: one
// per member; `cut`: the same for all. The last max_history periods before each member's cut are fitted.
PoolFit FitPool(std::span<const PoolMember> members, std::span<const int64_t> cuts,
                const PoolOptions& options);
PoolFit FitPool(std::span<const PoolMember> members, int64_t cut, const PoolOptions& options);

// The model of member k of `fit`, forecasting from its last observation used.
std::unique_ptr<FittedModel> PooledModel(const PoolFit& fit, size_t k, const PoolMember& member,
                                         const std::string& group);

// What `train --pool-by` gives every member of a group: the group fitted jointly without each member's last
// `horizon` periods (validation: its forecast of them scored as FitSeries scores a holdout; members that end
// together share one cut, so no member's fit sees the held-out periods of another) and on all periods (the
// saved model and its forecast from the member's last observation). A group
// of fewer than min_series, or one that cannot be fitted jointly, has each member fitted alone, with a note;
// a member that cannot be fitted at all falls back to the naive forecast, with a note. Never throws for bad
// data.
std::vector<SeriesResult> FitPooledGroup(std::span<const PoolMember> members, const PoolOptions& options);

// What `train --models auto --pool-by` gives auto's pool (SelectOptions::fitted_members) for every member of
// a group: the group fitted jointly before each of auto's `windows` validation windows (member k's periods
// [e_k - w h, e_k - (w - 1) h), w = 1..windows, e_k one past its last observation: the windows FitSeries
// scores, with the same cut for members that end together, so no member's fit sees another's held-out
// periods; one fit serves the later windows, and the end, while RollsForward (select.h) allows) and on all
// periods (the model). A group of fewer than min_series, or one that cannot be fitted jointly, gives every
// member an empty FittedMember (auto's pool goes without: a group of one is no pooling); a member left out of
// a window's fit forecasts only the later windows. Never throws for bad data.
std::vector<FittedMember> PooledMembers(std::span<const PoolMember> members, const PoolOptions& options,
                                        int windows);

}  // namespace mm
