// Local Outlier Factor, numerically as scikit-learn 1.2's LocalOutlierFactor:
// fit() has fit_predict semantics on the training rows, score() has
// novelty=True semantics (score_samples / predict) on new rows.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/feature_pipeline.hpp"
#include "model/neighbor_index.hpp"

namespace netlof {

struct LofOptions {
    std::size_t neighbors = 20;
    std::optional<double> contamination = 0.1;  // nullopt means "auto"
    unsigned threads = 0;                       // 0: every core
    // Reachability distances are at least this (in feature units): closer
    // than this counts as the same place, so a tight cluster cannot make a
    // small difference an outlier. 0 is scikit-learn's LOF.
    double reach_floor = 0;
    // When given, counts the rows whose neighbours are found: a caller's
    // progress display reads it from another thread.
    std::atomic<std::uint64_t>* progress = nullptr;
};

// What fit() learns about the training rows themselves.
struct LofTrainingResult {
    std::vector<double> lof;             // -negative_outlier_factor_
    std::vector<std::uint8_t> anomaly;   // fit_predict == -1
    std::size_t neighbors_used = 0;      // n_neighbors_
    std::vector<std::string> warnings;   // e.g. k clipped to n - 1
};

struct LofScore {
    double lof;     // -score_samples
    bool anomaly;   // predict == -1
};

class LofModel {
public:
    // Requires at least 2 rows (throws std::invalid_argument otherwise).
    static LofModel fit(FeatureMatrix train, const LofOptions& options, LofTrainingResult* result = nullptr);
    // Rebuilds a fitted model from its saved state; throws std::invalid_argument
    // when the parts do not fit together.
    static LofModel from_parts(FeatureMatrix train, std::size_t neighbors, std::optional<double> contamination,
                               double offset, std::vector<double> k_distance, std::vector<double> lrd,
                               double reach_floor = 0);

    // Scores each query row; out must have room for queries.rows().
    void score(const FeatureMatrix& queries, std::span<LofScore> out, unsigned threads = 0) const;
    // The k training neighbours of one query row (for explanations), nearest first.
    std::vector<Neighbor> neighbors_of(const FeatureMatrix& queries, std::size_t row) const;

    std::size_t neighbors() const { return k_; }
    std::optional<double> contamination() const { return contamination_; }
    double offset() const { return offset_; }      // offset_: anomaly when score < offset
    double threshold() const { return -offset_; }  // the same rule as lof > threshold
    const FeatureMatrix& training() const { return train_; }
    const std::vector<double>& k_distance() const { return kdist_; }  // floored at reach_floor()
    double reach_floor() const { return reach_floor_; }
    const std::vector<double>& lrd() const { return lrd_; }

private:
    LofModel() = default;

    FeatureMatrix train_;
    std::unique_ptr<BlockedNeighborIndex> index_;
    std::size_t k_ = 0;
    std::optional<double> contamination_;
    double offset_ = -1.5;
    double reach_floor_ = 0;
    std::vector<double> kdist_;  // distance to each training row's k-th neighbour
    std::vector<double> lrd_;    // local reachability density of each training row
};

// np.percentile(values, q) with numpy's default linear method, bit for bit.
double numpy_percentile(std::vector<double> values, double q);

}  // namespace netlof
