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

// The threshold for at most budget_per_day false alerts a day at the tail's
// rate, never below LOF's own 1.5; false when the tail cannot say (no rate,
// fewer than 10 scores above t).
struct BudgetThreshold {
    double threshold = 0;
    double expected_per_day = 0;  // what the fit expects at that threshold
    TailFit fit;
};
bool budget_threshold(const ScoreTail& tail, double budget_per_day, BudgetThreshold* out);

}  // namespace netlof
