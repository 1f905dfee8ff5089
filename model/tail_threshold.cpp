#include "model/tail_threshold.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "model/lof_model.hpp"

namespace netlof {

namespace {

constexpr double kInitialPercentile = 98;
constexpr std::size_t kMinExcesses = 10;
constexpr double kMinShape = -0.5;  // below, the GPD likelihood has no maximum worth trusting

// Grimshaw: for theta = xi / sigma, the likelihood's maximum over (xi, sigma)
// is at xi = mean(log(1 + theta * y)), sigma = xi / theta; what is left is a
// function of theta alone.
struct Profile {
    const std::vector<double>& y;
    double log_likelihood(double theta, double* xi, double* sigma) const {
        double u = 0;
        for (double v : y) {
            const double a = 1 + theta * v;
            if (a <= 0) return -std::numeric_limits<double>::infinity();
            u += std::log1p(theta * v);
        }
        u /= static_cast<double>(y.size());
        if (u < kMinShape || u == 0) return -std::numeric_limits<double>::infinity();
        *xi = u;
        *sigma = u / theta;
        const double n = static_cast<double>(y.size());
        return -n * std::log(*sigma) - n * u - n;
    }
};

}  // namespace

ScoreTail score_tail(const std::vector<double>& training_scores, double rate_per_s) {
    ScoreTail tail;
    tail.rows = training_scores.size();
    tail.rate_per_s = rate_per_s;
    if (training_scores.empty()) return tail;
    tail.initial = numpy_percentile(training_scores, kInitialPercentile);
    for (double s : training_scores)
        if (s > tail.initial) tail.top.push_back(s);
    std::sort(tail.top.begin(), tail.top.end(), std::greater<>());
    return tail;
}

bool fit_tail(const ScoreTail& tail, TailFit* out) {
    if (tail.top.size() < kMinExcesses) return false;
    std::vector<double> y;
    y.reserve(tail.top.size());
    for (double s : tail.top) y.push_back(s - tail.initial);
    const double y_max = y.front(), y_mean = [&] {
        double m = 0;
        for (double v : y) m += v;
        return m / static_cast<double>(y.size());
    }();
    TailFit best;
    best.t = tail.initial;
    best.excesses = y.size();
    best.rows = tail.rows;
    // The exponential tail (xi = 0) first; then theta on a grid both sides of 0, refined.
    best.xi = 0;
    best.sigma = y_mean;
    const double n = static_cast<double>(y.size());
    double best_ll = -n * std::log(y_mean) - n;
    const Profile profile{y};
    std::vector<double> grid;
    for (int i = 0; i <= 200; ++i) {
        const double e = std::pow(10.0, -4.0 + 4.0 * i / 200.0);  // 1e-4 .. 1
        grid.push_back(-(1 - e) / y_max);                          // towards -1 / y_max
        grid.push_back(std::pow(10.0, -3.0 + 6.0 * i / 200.0) / y_mean);  // 1e-3 .. 1e3 over the mean
    }
    double best_theta = 0;
    for (double theta : grid) {
        double xi = 0, sigma = 0;
        const double ll = profile.log_likelihood(theta, &xi, &sigma);
        if (ll > best_ll) best_ll = ll, best_theta = theta, best.xi = xi, best.sigma = sigma;
    }
    if (best_theta != 0) {  // golden section around the best grid point
        double lo = best_theta * (best_theta > 0 ? 0.9 : 1.1), hi = best_theta * (best_theta > 0 ? 1.1 : 0.9);
        if (hi < lo) std::swap(lo, hi);
        const double g = (std::sqrt(5.0) - 1) / 2;
        for (int i = 0; i < 60; ++i) {
            const double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
            double xa, sa, xb, sb;
            if (profile.log_likelihood(a, &xa, &sa) > profile.log_likelihood(b, &xb, &sb)) hi = b;
            else lo = a;
        }
        double xi = 0, sigma = 0;
        const double theta = (lo + hi) / 2;
        if (profile.log_likelihood(theta, &xi, &sigma) > best_ll) best.xi = xi, best.sigma = sigma;
    }
    *out = best;
    return true;
}

double tail_quantile(const TailFit& fit, double q) {
    const double r = q * static_cast<double>(fit.rows) / static_cast<double>(fit.excesses);
    if (r >= 1) return fit.t;  // more often than the tail itself: its start
    if (std::abs(fit.xi) < 1e-9) return fit.t - fit.sigma * std::log(r);
    return fit.t + fit.sigma / fit.xi * (std::pow(r, -fit.xi) - 1);
}

bool budget_threshold(const ScoreTail& tail, double budget_per_day, BudgetThreshold* out) {
    if (!(tail.rate_per_s > 0) || !(budget_per_day > 0) || tail.rows == 0) return false;
    out->training_max = tail.top.empty() ? tail.initial : tail.top.front();
    const double floor = std::max(1.5, kAboveMax * out->training_max);
    // The tail in logs: t and every score above it.
    ScoreTail logs = tail;
    logs.initial = std::log(std::max(tail.initial, 1e-300));
    for (double& s : logs.top) s = std::log(s);
    TailFit fit;
    out->fitted_ok = fit_tail(logs, &fit);
    const bool trusted = out->fitted_ok && fit.excesses >= kTrustedExcesses && fit.xi <= kMaxShape;
    const double per_day = tail.rate_per_s * 86400;
    const double q = budget_per_day / per_day;
    if (out->fitted_ok) {
        out->fit = fit;
        out->fitted = std::exp(tail_quantile(fit, q));
    }
    // Within the sample's reach (at least one training score per q), the
    // training scores themselves say where the budget lies: at or below the
    // largest of them, so the floor holds.
    const bool beyond_sample = q * static_cast<double>(tail.rows) < 1;
    if (!beyond_sample) {
        out->from = BudgetThreshold::From::AboveTrainingMax;
        out->threshold = floor;
    } else if (!trusted) {
        out->from = BudgetThreshold::From::FitUntrusted;
        out->threshold = floor;
    } else if (out->fitted <= floor) {
        out->from = BudgetThreshold::From::AboveTrainingMax;
        out->threshold = floor;
    } else {
        out->from = BudgetThreshold::From::Fit;
        out->threshold = out->fitted;
    }
    if (out->fitted_ok) {
        // What the fitted tail says lies above the threshold, a day.
        const double above_t = static_cast<double>(fit.excesses) / static_cast<double>(fit.rows);
        const double y = std::log(out->threshold) - fit.t;
        double survival;
        if (y <= 0) survival = 1;
        else if (std::abs(fit.xi) < 1e-9) survival = std::exp(-y / fit.sigma);
        else survival = std::pow(std::max(0.0, 1 + fit.xi * y / fit.sigma), -1 / fit.xi);
        out->expected_per_day = per_day * above_t * survival;
    }
    return true;
}

}  // namespace netlof
