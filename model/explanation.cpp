#include "model/explanation.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/core.h>

namespace netlof {

namespace {

// The column's own units back from the scaled feature (inverse transform).
double raw_from_feature(const NumericFeature& f, double x) {
    const double v = x * f.scale + f.mean;
    const bool log = f.transform == Transform::LogStandard || f.transform == Transform::Log;
    return (log ? std::expm1(v) : v) * f.unit;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

std::vector<FeatureReason> explain_row(const FeaturePipeline& pipeline, const LofModel& lof, const FeatureMatrix& queries,
                                       std::size_t row, const ValueText& value_text, std::size_t top,
                                       double min_share) {
    const std::vector<Neighbor> nb = lof.neighbors_of(queries, row);
    const FeatureMatrix& train = lof.training();
    const std::size_t k = nb.size();
    std::vector<FeatureReason> reasons;
    double total = 0;

    const double* q = queries.numeric_row(row);
    for (std::size_t j = 0; j < pipeline.numeric().size(); ++j) {
        const NumericFeature& f = pipeline.numeric()[j];
        FeatureReason r;
        r.column = f.column;
        r.numeric = true;
        r.neighbours = k;
        std::vector<double> raw;
        for (const Neighbor& n : nb) {
            const double d = q[j] - train.numeric_row(n.index)[j];
            r.share += d * d;
            raw.push_back(raw_from_feature(f, train.numeric_row(n.index)[j]));
        }
        r.share /= static_cast<double>(k);
        r.neighbour_median = median(std::move(raw));
        r.value = value_text(f.column);
        r.text = fmt::format("{} {} against a neighbour median of {:.6g}", f.column, r.value, r.neighbour_median);
        total += r.share;
        reasons.push_back(std::move(r));
    }
    const std::uint32_t* codes = queries.codes_row(row);
    for (std::size_t j = 0; j < pipeline.categorical().size(); ++j) {
        const CategoricalFeature& f = pipeline.categorical()[j];
        FeatureReason r;
        r.column = f.column;
        r.neighbours = k;
        r.value = value_text(f.column);
        r.unseen = codes[j] == kUnknownCategory;
        for (const Neighbor& n : nb) {
            const bool same = train.codes_row(n.index)[j] == codes[j];
            r.neighbours_sharing += same;
            // One-hot distance: 2 between two known values, 1 to an unseen one.
            r.share += same ? 0.0 : (r.unseen ? 1.0 : 2.0);
        }
        r.share /= static_cast<double>(k);
        r.text = r.unseen ? fmt::format("{} '{}' never seen in training", f.column, r.value)
                          : fmt::format("{} '{}' shared by {} of {} neighbours", f.column, r.value, r.neighbours_sharing, k);
        total += r.share;
        reasons.push_back(std::move(r));
    }
    for (FeatureReason& r : reasons) r.share = total > 0 ? r.share / total : 0;
    std::stable_sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) { return a.share > b.share; });
    // A value never seen in training is always worth saying, however small its share.
    std::erase_if(reasons, [&](const FeatureReason& r) { return r.share < min_share && !r.unseen; });
    if (reasons.size() > top) reasons.resize(top);
    return reasons;
}

}  // namespace netlof
