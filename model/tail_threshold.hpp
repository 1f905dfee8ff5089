// A score threshold from an alert budget, by extreme value theory.
//
// The operator says how many false alerts a day may hold; with the learned
// connection rate that is a probability q per connection, often far smaller
// than 1 / (rows learned from), so no empirical quantile of the training
// scores reaches it. As in SPOT (Siffer et al., KDD 2017), the scores above
// a high initial threshold t (the training scores' 98th percentile) are
// fitted with a generalized Pareto distribution (maximum likelihood, by
// Grimshaw's one-parameter reduction), and the threshold is the score that
// distribution exceeds with probability q:
//   z = t + (sigma / xi) * ((q * n / N_t)^(-xi) - 1)     (t - sigma * log(q * n / N_t) when xi = 0)
// where n is the number of training scores and N_t how many exceed t.
//
// LOF scores have a heavy tail (a ratio of densities): fitted as they are,
// the shape came out above 1 and the threshold far beyond any anomaly. The
// fit is therefore made on the logs of the scores, where the tail is tame,
// and trusted only on at least kTrustedExcesses scores with a shape of at
// most kMaxShape. The threshold is never at or below the largest training
// score (training traffic is what normal looks like: a connection like its
// most unusual one is not an alert): it is at least that score times
// kAboveMax. The fit is used only where the budget asks for less than one
// alert in as many connections as the scores hold (beyond the sample);
// within it, the largest score already bounds the budget's quantile. When
// the fit cannot be trusted (too few scores, a shape beyond kMaxShape) the
// same bound stands in.
#pragma once

#include <cstdint>
#include <vector>

namespace netlof {

// What the model keeps of its training scores to set a threshold later.
struct ScoreTail {
    std::uint64_t rows = 0;      // training scores in all
    double rate_per_s = 0;       // connections a second while learning (0: unknown)
    double initial = 0;          // t: the training scores' 98th percentile
    std::vector<double> top;     // the scores above t, descending
};

// The tail of training_scores (LOF values), with the rate they came at.
ScoreTail score_tail(const std::vector<double>& training_scores, double rate_per_s);

struct TailFit {
    double t = 0;        // initial threshold
    double sigma = 0;    // GPD scale
    double xi = 0;       // GPD shape (0: exponential tail)
    std::uint64_t excesses = 0, rows = 0;
};
// Fits the excesses over the tail's lowest score. Needs at least 10 of them.
bool fit_tail(const ScoreTail& tail, TailFit* out);
// The score exceeded with probability q per connection.
double tail_quantile(const TailFit& fit, double q);

inline constexpr std::size_t kTrustedExcesses = 30;
inline constexpr double kMaxShape = 0.5;
inline constexpr double kAboveMax = 1.1;

// The threshold for at most budget_per_day false alerts a day at the tail's
// rate, never below LOF's own 1.5; false when the tail cannot say (no rate,
// no training scores).
struct BudgetThreshold {
    enum class From { Fit, AboveTrainingMax, FitUntrusted };
    double threshold = 0;
    From from = From::Fit;
    double training_max = 0;
    double fitted = 0;            // what the fit said (0 when there was no fit)
    double expected_per_day = 0;  // what the fit expects at the threshold
    bool fitted_ok = false;       // a fit was made (trusted or not)
    TailFit fit;                  // of the logs of the scores
};
bool budget_threshold(const ScoreTail& tail, double budget_per_day, BudgetThreshold* out);

}  // namespace netlof
