#include "userspace/engine/alert_folder.hpp"

#include <algorithm>

namespace netlof {

void AlertFolder::close_window(const Window& w, std::vector<Alert>& out) const {
    if (w.repeats == 0) return;  // nothing was folded into it
    Alert s = w.last;
    s.count = w.repeats;
    s.fold_window_s = window_s_;
    out.push_back(std::move(s));
}

bool AlertFolder::admit(const Alert& a) {
    // A masquerade and novelty are about the process, wherever it connects
    // (each new destination is new once: its repeats would never fold).
    const bool per_process = a.rule == Rule::ProcessMasquerade || a.rule == Rule::NewProcess ||
                             a.rule == Rule::NewDestination || a.rule == Rule::NewPort || a.rule == Rule::VolumeSpike ||
                             a.rule == Rule::ConnectionBurst || a.rule == Rule::FanOut;
    const Key key = per_process ? Key{a.record.process_name, a.record.exe, IpAddress{}, 0, a.rule}
                                : Key{a.record.process_name, std::string(), a.record.dst_ip, a.record.dst_port, a.rule};
    auto it = windows_.find(key);
    if (it != windows_.end() && a.time - it->second.start < window_s_) {
        it->second.last = a;
        ++it->second.repeats;
        ++folded_;
        return false;
    }
    if (it != windows_.end()) {  // its window ended: report its repeats first
        close_window(it->second, early_);
        windows_.erase(it);
    }
    if (windows_.size() >= max_keys_) {
        // Full: end the oldest window now rather than forget its repeats.
        auto oldest = std::min_element(windows_.begin(), windows_.end(),
                                       [](const auto& x, const auto& y) { return x.second.start < y.second.start; });
        close_window(oldest->second, early_);
        windows_.erase(oldest);
        ++early_ends_;
    }
    windows_.emplace(key, Window{a.time, a, 0});
    return true;
}

std::vector<Alert> AlertFolder::expire(double now, bool force) {
    std::vector<Alert> out = std::move(early_);
    early_.clear();
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (!force && now - it->second.start < window_s_) {
            ++it;
            continue;
        }
        close_window(it->second, out);
        it = windows_.erase(it);
    }
    return out;
}

}  // namespace netlof
