#include "rules/behaviour_windows.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "common/text_table.hpp"

namespace netlof {

double window_limit(const WindowLimit& learned, WindowMetric m) {
    const auto i = static_cast<std::size_t>(m);
    return std::max({learned.mean + kSpreads * learned.sd, kOverMax * learned.max, kFloor[i]});
}

double unlearned_limit(WindowMetric m) { return kUnlearned[static_cast<std::size_t>(m)]; }

namespace {

double number(std::string_view cell) {
    double v = 0;
    return std::from_chars(cell.data(), cell.data() + cell.size(), v).ec == std::errc{} ? v : NAN;
}

// FNV-1a over the family and the masked address.
std::uint64_t network_hash(const NetworkKey& k) {
    std::uint64_t h = 1469598103934665603ull;
    const auto mix = [&h](std::uint8_t b) {
        h ^= b;
        h *= 1099511628211ull;
    };
    mix(k.first);
    for (std::uint8_t b : k.second) mix(b);
    return h;
}

}  // namespace

void WindowLearner::add(const TextTable& part) {
    const auto name = part.column_index("process_name"), ip = part.column_index("dst_ip"),
               ts_end = part.column_index("ts_end"), sent = part.column_index("bytes_sent"), exe = part.column_index("exe");
    if (!name || !ip || !ts_end || !sent) return;
    std::string subject;  // one buffer for every row
    for (std::size_t row = 0; row < part.rows(); ++row) {
        const double ts = number(part.cell(row, *ts_end)), bytes = number(part.cell(row, *sent));
        const std::optional<Endpoint> dst = parse_endpoint(part.cell(row, *ip), 0);
        if (!std::isfinite(ts) || !std::isfinite(bytes) || !dst) continue;
        first_ = std::min(first_, ts);
        last_ = std::max(last_, ts);
        ReachBaseline::subject_into(part.cell(row, *name), exe ? part.cell(row, *exe) : std::string_view{}, subject);
        auto it = by_subject_.find(subject);
        if (it == by_subject_.end()) it = by_subject_.emplace(subject, std::vector<Seen>{}).first;
        it->second.push_back({ts, bytes, network_key(reach_key(*dst, ""))});
    }
}

WindowBaseline learn_windows(const TextTable& table) {
    WindowLearner learner;
    learner.add(table);
    return learner.finish();
}

WindowBaseline WindowLearner::finish() const {
    WindowBaseline out;
    const double first = first_, last = last_;
    for (const auto& [subject, conns] : by_subject_) {
        LearnedWindows& learned = out[subject];
        for (std::size_t s = 0; s < kWindowSeconds.size(); ++s) {
            const double w = kWindowSeconds[s];
            std::map<std::int64_t, std::array<double, 2>> sums;  // window -> bytes, connections
            std::map<std::int64_t, std::set<NetworkKey>> networks;
            for (const Seen& c : conns) {
                const auto i = static_cast<std::int64_t>(std::floor(c.ts / w));
                sums[i][0] += c.bytes;
                sums[i][1] += 1;
                networks[i].insert(c.network);
            }
            // Every window from the program's first to its last, the quiet
            // ones as 0; but not the table's first and last windows, which
            // learning saw only part of (unless there is nothing else).
            std::int64_t lo = sums.begin()->first, hi = sums.rbegin()->first;
            const auto table_lo = static_cast<std::int64_t>(std::floor(first / w)),
                       table_hi = static_cast<std::int64_t>(std::floor(last / w));
            if (std::max(lo, table_lo + 1) <= std::min(hi, table_hi - 1)) {
                lo = std::max(lo, table_lo + 1);
                hi = std::min(hi, table_hi - 1);
            }
            const double windows = static_cast<double>(hi - lo + 1);
            // Whole windows: strictly inside the table's span.
            const auto whole = static_cast<std::uint32_t>(std::max<std::int64_t>(0, table_hi - table_lo - 1));
            for (std::size_t m = 0; m < kWindowMetrics; ++m) {
                double total = 0, squares = 0, max = 0;
                for (const auto& [i, v] : sums) {
                    const double x = m < 2 ? v[m] : static_cast<double>(networks[i].size());
                    max = std::max(max, x);  // a part of a window is still what it held
                    if (i < lo || i > hi) continue;
                    total += x;
                    squares += x * x;
                }
                WindowLimit& l = learned[s][m];
                l.mean = total / windows;
                l.sd = std::sqrt(std::max(0.0, squares / windows - l.mean * l.mean));
                l.max = max;
                l.whole = whole;
            }
        }
    }
    return out;
}

const std::vector<WindowFinding>& WindowWatch::add(const WindowBaseline& learned, std::string_view subject, double ts,
                                                   std::uint64_t bytes_sent, const ReachKey& dst) {
    found_.clear();
    auto it = programs_.find(subject);
    if (it == programs_.end()) {
        if (programs_.size() >= max_programs_) {
            auto quiet = std::min_element(programs_.begin(), programs_.end(),
                                          [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
            programs_.erase(quiet);
            ++evictions_;
        }
        it = programs_.emplace(std::string(subject), Program{}).first;
    }
    Program& p = it->second;
    p.last = std::max(p.last, ts);
    const auto known = learned.find(subject);
    const NetworkKey net = network_key(dst);
    for (std::size_t s = 0; s < kWindowSeconds.size(); ++s) {
        if (known != learned.end() && known->second[s][0].whole < kMinWholeWindows) {
            ++unjudged_;
            continue;
        }
        Running& r = p.scale[s];
        const auto index = static_cast<std::int64_t>(std::floor(ts / kWindowSeconds[s]));
        if (index > r.index) {  // a new window (records a little out of order join the current one)
            r.index = index;
            r.sum = {};
            r.network_bits = {};
            r.zero_bits = kNetworkBits;
            r.fired = {};
        }
        r.sum[0] += static_cast<double>(bytes_sent);
        r.sum[1] += 1;
        const std::size_t bit = network_hash(net) % kNetworkBits;
        std::uint64_t& word = r.network_bits[bit / 64];
        if ((word & (std::uint64_t{1} << (bit % 64))) == 0) {
            word |= std::uint64_t{1} << (bit % 64);
            --r.zero_bits;
            // n = -m ln(V): V the share of bits still zero (all set: at least m ln m).
            const double m = static_cast<double>(kNetworkBits);
            r.sum[2] = r.zero_bits == 0 ? m * std::log(m) : -m * std::log(static_cast<double>(r.zero_bits) / m);
        }
        for (std::size_t m = 0; m < kWindowMetrics; ++m) {
            if (r.fired[m]) continue;
            const auto metric = static_cast<WindowMetric>(m);
            const WindowLimit l = known == learned.end() ? WindowLimit{} : known->second[s][m];
            const double limit = known == learned.end() ? unlearned_limit(metric) : window_limit(l, metric);
            if (r.sum[m] <= limit) continue;
            r.fired[m] = true;
            found_.push_back({metric, kWindowSeconds[s], r.sum[m], l, limit});
        }
    }
    return found_;
}

}  // namespace netlof
