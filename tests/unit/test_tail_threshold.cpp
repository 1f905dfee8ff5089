#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "model/tail_threshold.hpp"

using namespace netlof;

namespace {

// n scores: 98% uniform in [0.5, 1), 2% at 1 plus a generalized Pareto excess.
std::vector<double> scores(std::size_t n, double xi, double sigma, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<double> out;
    for (std::size_t i = 0; i < n; ++i) {
        if (i % 50 != 0) {
            out.push_back(0.5 + 0.5 * u(rng));
            continue;
        }
        const double p = u(rng);
        out.push_back(1 + (xi == 0 ? -sigma * std::log(1 - p) : sigma / xi * (std::pow(1 - p, -xi) - 1)));
    }
    return out;
}

// The true score exceeded with probability q by the mixture above.
double true_quantile(double q, double xi, double sigma) {
    const double r = q / 0.02;
    return 1 + (xi == 0 ? -sigma * std::log(r) : sigma / xi * (std::pow(r, -xi) - 1));
}

}  // namespace

TEST_CASE("tail threshold: a generalized Pareto tail is fitted and extrapolated past the sample", "[tail]") {
    for (const auto& [xi, sigma] : {std::pair{0.0, 0.5}, std::pair{0.3, 1.0}, std::pair{0.8, 0.1}, std::pair{-0.2, 2.0}}) {
        INFO("xi " << xi << ", sigma " << sigma);
        const ScoreTail tail = score_tail(scores(200000, xi, sigma, 7), 10);
        CHECK(tail.rows == 200000);
        CHECK(tail.initial == Approx(1).epsilon(0.01));
        TailFit fit;
        REQUIRE(fit_tail(tail, &fit));
        CHECK(fit.xi == Approx(xi).margin(0.08));
        CHECK(fit.sigma == Approx(sigma).epsilon(0.1));
        // One in ten million: 50 times rarer than the sample's largest score.
        const double q = 1e-7;
        CHECK(tail_quantile(fit, q) == Approx(true_quantile(q, xi, sigma)).epsilon(0.35));
    }
}

TEST_CASE("tail threshold: within the sample's reach the budget is held just above the largest training score",
          "[tail]") {
    const ScoreTail tail = score_tail(scores(100000, 0.2, 1.0, 3), 5);  // 5 connections a second
    BudgetThreshold b;
    // 10 a day at 432,000 a day: q = 1 / 43,200, more than one in 100,000 scores.
    REQUIRE(budget_threshold(tail, 10, &b));
    CHECK(b.from == BudgetThreshold::From::AboveTrainingMax);
    CHECK(b.training_max == tail.top.front());
    CHECK(b.threshold == Approx(kAboveMax * tail.top.front()));
    BudgetThreshold loose;
    REQUIRE(budget_threshold(score_tail(std::vector<double>(1000, 1.0), 5), 1e6, &loose));
    CHECK(loose.threshold == 1.5);  // never below LOF's own
    CHECK_FALSE(budget_threshold(score_tail(scores(100000, 0.2, 1.0, 3), 0), 10, &b));  // no rate
    CHECK_FALSE(budget_threshold(tail, 0, &b));
}

TEST_CASE("tail threshold: beyond the sample the logs' tail is fitted, and never put at or below the largest score",
          "[tail]") {
    // The logs of a Pareto-like tail have an exponential one: the fit is trusted.
    const ScoreTail tail = score_tail(scores(100000, 0.2, 1.0, 3), 5);
    BudgetThreshold b;
    REQUIRE(budget_threshold(tail, 0.01, &b));  // q = 1 / 43,200,000: far past 100,000 scores
    CHECK(b.fitted_ok);
    CHECK(b.fit.xi <= kMaxShape);
    CHECK(b.fit.excesses == tail.top.size());
    // Past the largest score, within a factor of 3 of the truth: on the logs a
    // truly Pareto tail is extrapolated low, and the largest score bounds it.
    const double truth = true_quantile(0.01 / 432000, 0.2, 1.0);
    CHECK(b.fitted > b.training_max);
    CHECK(b.fitted > truth / 3);
    CHECK(b.fitted < truth * 3);
    CHECK(b.threshold == std::max(b.fitted, kAboveMax * b.training_max));
    CHECK(b.threshold > b.training_max);
    CHECK(b.expected_per_day <= 0.01 * 1.05);
}

TEST_CASE("tail threshold: a fit on too few scores is not trusted; the largest score bounds the threshold", "[tail]") {
    // 1,000 scores: 20 in the tail, fewer than kTrustedExcesses.
    const ScoreTail few = score_tail(scores(1000, 0.2, 1.0, 3), 5);
    BudgetThreshold b;
    REQUIRE(budget_threshold(few, 0.01, &b));
    CHECK(b.fitted_ok);
    CHECK(b.fit.excesses < kTrustedExcesses);
    CHECK(b.from == BudgetThreshold::From::FitUntrusted);
    CHECK(b.threshold == Approx(kAboveMax * few.top.front()));
    // 400 scores: 8 in the tail, too few to fit at all.
    const ScoreTail fewer = score_tail(scores(400, 0.2, 1.0, 3), 5);
    REQUIRE(budget_threshold(fewer, 0.01, &b));
    CHECK_FALSE(b.fitted_ok);
    CHECK(b.threshold == Approx(kAboveMax * fewer.top.front()));
}
