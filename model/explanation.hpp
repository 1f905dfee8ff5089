// Why a record scored as it did: the features that set it apart from its k
// nearest training neighbours, largest share of the distance first.
//
//   bytes_sent 50000 against a neighbour median of 10873.2
//   process_name 'curl' never seen in training
//   dst_ip '203.0.113.9' shared by 0 of 20 neighbours
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text_table.hpp"
#include "model/feature_pipeline.hpp"
#include "model/lof_model.hpp"

namespace netlof {

struct FeatureReason {
    std::string column;
    std::string value;        // the record's value, as text
    double share = 0;         // this feature's part of the mean squared distance to the neighbours
    bool numeric = false;
    double neighbour_median = 0;  // numeric: the neighbours' median, in the column's own units
    bool unseen = false;          // categorical: a value never seen in training
    std::size_t neighbours_sharing = 0;  // categorical: neighbours with the same value
    std::size_t neighbours = 0;
    std::string text;  // one human line
};

// The record's value of a column as text, for the reasons' wording.
using ValueText = std::function<std::string(std::string_view column)>;
inline ValueText csv_row_text(const TextTable& table, std::size_t row) {
    return [&table, row](std::string_view column) { return std::string(table.cell(row, *table.column_index(column))); };
}

// Reasons for row `row` of `queries` (transformed with `pipeline`), at most
// `top`, each with a share of at least min_share (a value never seen in
// training is always kept); value_text gives the
// record's own values as text.
std::vector<FeatureReason> explain_row(const FeaturePipeline& pipeline, const LofModel& lof, const FeatureMatrix& queries,
                                       std::size_t row, const ValueText& value_text, std::size_t top = 3,
                                       double min_share = 0.05);

}  // namespace netlof
