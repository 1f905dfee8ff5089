// LOF: the records no rule mutes, of programs learning saw at least k times,
// scored as one batch against the learned neighbours, each anomaly explained
// by the features that set it apart (model/explanation.hpp).
#include "model/explanation.hpp"
#include "userspace/engine/detector.hpp"

namespace netlof {

bool Detector::lof_judges(const ConnectionRecord& r, const std::optional<Endpoint>& dst) {
    // LOF scores allowed records too: exfiltration to an allowed host is still exfiltration.
    if (dst && allowlist_.lof_muted(r.process_name, r.exe, *dst)) {
        ++stats_.lof_muted;
        return false;
    }
    // LOF needs k learned neighbours of the program's own. For a program
    // learning saw fewer times its neighbours are other programs, and its
    // score says only that it is rare: novelty and the windows judge it.
    // (A model without a reach baseline, from an older netlof, scores all.)
    if (dst && !model_->reach.profiles().empty()) {
        const auto p = model_->reach.profiles().find(subject_);
        if (p == model_->reach.profiles().end() || p->second.learned_connections < model_->lof.neighbors()) {
            ++stats_.lof_sparse;
            return false;
        }
    }
    return true;
}

void Detector::score_batch(std::span<const ConnectionRecord> records, double now) {
    const TrainedModel& m = *model_;
    m.pipeline.shape(batch_, to_score_.size());
    std::size_t rows = 0;
    for (std::size_t i : to_score_) {
        if (!m.pipeline.transform_record(cells_.fill(records[i]), batch_, rows).empty()) {
            ++stats_.unscorable;
            continue;
        }
        to_score_[rows++] = i;
    }
    if (rows == 0) return;
    if (rows < to_score_.size()) {  // rare: drop the unscorable rows' space, keeping the rows written
        to_score_.resize(rows);
        batch_.numeric.conservativeResize(static_cast<Eigen::Index>(rows), batch_.numeric.cols());
        batch_.codes.resize(rows * batch_.categorical_dims());
    }
    scores_.resize(rows);
    // One thread: a batch is small, and the daemon should not take both cores.
    m.lof.score(batch_, scores_, 1);
    stats_.scored += rows;
    for (std::size_t row = 0; row < rows; ++row) {
        if (!(scores_[row].lof > lof_threshold_)) continue;
        const ConnectionRecord& r = records[to_score_[row]];
        judging_ = to_score_[row];
        Alert a = alert_for(r, Rule::LofAnomaly, now);
        a.lof = scores_[row].lof;
        a.threshold = lof_threshold_;
        // Explained before folding: a fold's summary carries its last repeat's why.
        const RecordCells& cells = cells_.fill(r);
        const auto text = [&cells](std::string_view column) {
            return std::string(cells.text[*connection_column_id(column)]);
        };
        for (const FeatureReason& reason : explain_row(m.pipeline, m.lof, batch_, row, text)) a.why.push_back(reason.text);
        raise(a);
    }
}

}  // namespace netlof
