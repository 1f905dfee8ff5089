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

TEST_CASE("tail threshold: a budget a day at the learned rate, never below 1.5", "[tail]") {
    const ScoreTail tail = score_tail(scores(100000, 0.2, 1.0, 3), 5);  // 5 connections a second
    BudgetThreshold b;
    REQUIRE(budget_threshold(tail, 10, &b));
    // 10 a day at 432,000 a day: q = 1 / 43,200.
    CHECK(b.threshold == Approx(tail_quantile(b.fit, 10.0 / 432000)));
    CHECK(b.threshold == Approx(true_quantile(10.0 / 432000, 0.2, 1.0)).epsilon(0.15));
    CHECK(b.expected_per_day == Approx(10).epsilon(0.01));
    BudgetThreshold loose;
    REQUIRE(budget_threshold(tail, 1e6, &loose));  // more than the whole tail: its start, but at least 1.5
    CHECK(loose.threshold == 1.5);
    CHECK_FALSE(budget_threshold(score_tail(scores(100000, 0.2, 1.0, 3), 0), 10, &b));  // no rate
    CHECK_FALSE(budget_threshold(score_tail(scores(400, 0.2, 1.0, 3), 5), 10, &b));     // 8 scores in the tail
    CHECK_FALSE(budget_threshold(tail, 0, &b));
}
