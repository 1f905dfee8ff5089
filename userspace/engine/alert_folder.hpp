// Folds repeats of the same (process, destination, rule) inside a window (for
// process_masquerade, the novelty rules and the window rules: the same
// process name and executable, any destination): the first is let through at
// once, the rest are counted, and when the window ends one more alert
// carries their count. Nothing is dropped silently; the table is bounded,
// and a full table ends the oldest window early.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "userspace/engine/alert.hpp"

namespace netlof {

class AlertFolder {
public:
    AlertFolder(double window_s, std::size_t max_keys = 4096) : window_s_(window_s), max_keys_(max_keys) {}
    // True: write this alert now. False: counted into its window.
    bool admit(const Alert& a);
    // Summary alerts for windows that ended by `now` (or, with force, all).
    std::vector<Alert> expire(double now, bool force = false);
    std::uint64_t folded() const { return folded_; }
    std::uint64_t early_ends() const { return early_ends_; }

private:
    // (process name, executable or "", destination or none, port, rule)
    using Key = std::tuple<std::string, std::string, IpAddress, std::uint16_t, Rule>;
    struct Window {
        double start = 0;
        Alert last;        // the latest repeat, reported with the count
        std::uint64_t repeats = 0;
    };
    // Appends the summary of a window's repeats, if it folded any.
    void close_window(const Window& w, std::vector<Alert>& out) const;

    double window_s_;
    std::size_t max_keys_;
    std::map<Key, Window> windows_;
    std::vector<Alert> early_;  // summaries of windows ended early by a full table
    std::uint64_t folded_ = 0, early_ends_ = 0;
};

}  // namespace netlof
