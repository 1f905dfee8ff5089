#include "rules/behaviour_windows.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/text_table.hpp"

namespace netlof {

double window_limit(const WindowLimit& learned, WindowMetric m) {
    const auto i = static_cast<std::size_t>(m);
    return std::max({learned.mean + kSpreads * learned.sd, kOverMax * learned.max, kFloor[i]});
}

double unlearned_limit(WindowMetric m) { return kUnlearned[static_cast<std::size_t>(m)]; }

bool judges(WindowScope scope, WindowMetric m) {
    return (m == WindowMetric::Networks) == (scope == WindowScope::Service);
}

std::size_t hour_of_day(double ts) {
    const double day = std::fmod(ts, 86400.0);
    return static_cast<std::size_t>(std::floor((day < 0 ? day + 86400 : day) / 3600)) % kDayHours;
}

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

// The learned sums of some hours, pooled.
WindowLimit pooled(const LearnedWindows& l, std::size_t scale, std::size_t metric, std::size_t first_hour,
                   std::size_t hours) {
    double whole = 0, sum = 0, squares = 0, max = 0;
    for (std::size_t i = 0; i < hours; ++i) {
        const std::size_t h = (first_hour + i) % kDayHours;
        const WindowSums& s = l.sums[scale][metric][h];
        whole += l.whole[scale][h];
        sum += s.sum;
        squares += s.squares;
        max = std::max(max, s.max);
    }
    WindowLimit out;
    out.whole = static_cast<std::uint32_t>(whole);
    out.max = max;
    if (whole > 0) {
        out.mean = sum / whole;
        out.sd = std::sqrt(std::max(0.0, squares / whole - out.mean * out.mean));
    }
    return out;
}

}  // namespace

WindowLimit learned_limit(const LearnedWindows& learned, std::size_t scale, WindowMetric m, double window_start,
                          std::size_t* hours) {
    const auto metric = static_cast<std::size_t>(m);
    const auto& sums = learned.sums[scale][metric];
    const auto& whole = learned.whole[scale];
    double active = 0;
    for (const WindowSums& s : sums) active += s.active;
    const auto around = [](std::size_t h) { return (h + kDayHours - 1) % kDayHours; };
    WindowLimit l = pooled(learned, scale, metric, around(hour_of_day(window_start)), 3);
    if (hours != nullptr) *hours = kDayHours;
    if (l.whole < kMinWholeWindows || active < kMinActiveWindows) return pooled(learned, scale, metric, 0, kDayHours);
    if (hours != nullptr) *hours = 3;
    // Sums of connections arriving at an hour's rate vary as a compound
    // Poisson sum does: their variance grows with their mean, by the same
    // factor (the dispersion) whatever the rate. It is learned over every
    // hour (each hour's squared deviations over its sums) and applied to
    // this hour's level.
    double deviations = 0, total = 0;
    for (std::size_t h = 0; h < kDayHours; ++h) {
        if (whole[h] == 0) continue;
        const double n = whole[h], mean = sums[h].sum / n;
        deviations += std::max(0.0, sums[h].squares - n * mean * mean);
        total += sums[h].sum;
    }
    if (total > 0) l.sd = std::sqrt(deviations / total * l.mean);
    return l;
}

void window_key_into(std::string_view subject, const ReachKey& dst, WindowScope scope, std::string& out) {
    out.assign(subject);
    out += "\t:";
    append_port_text(out, dst);
    if (scope == WindowScope::Destination) {
        out += ' ';
        append_network_text(out, dst);
    }
}

void merge_windows(WindowBaseline& into, const WindowBaseline& from) {
    // Every program of a span has the span's whole windows.
    using Whole = decltype(LearnedWindows::whole);
    const Whole before = into.empty() ? Whole{} : into.begin()->second.whole;
    const Whole added = from.empty() ? Whole{} : from.begin()->second.whole;
    for (auto& [key, mine] : into)
        for (std::size_t s = 0; s < kScales; ++s)
            for (std::size_t h = 0; h < kDayHours; ++h) mine.whole[s][h] += added[s][h];
    for (const auto& [key, theirs] : from) {
        auto [it, inserted] = into.try_emplace(key);
        LearnedWindows& mine = it->second;
        if (inserted)
            for (std::size_t s = 0; s < kScales; ++s)
                for (std::size_t h = 0; h < kDayHours; ++h) mine.whole[s][h] = before[s][h] + added[s][h];
        for (std::size_t s = 0; s < kScales; ++s)
            for (std::size_t h = 0; h < kDayHours; ++h) {
                for (std::size_t m = 0; m < kWindowMetrics; ++m) {
                    WindowSums& a = mine.sums[s][m][h];
                    const WindowSums& b = theirs.sums[s][m][h];
                    a.sum += b.sum;
                    a.squares += b.squares;
                    a.active += b.active;
                    a.max = std::max(a.max, b.max);
                }
            }
    }
}

void NetworkCount::add(const NetworkKey& k) {
    const std::size_t bit = network_hash(k) % kNetworkBits;
    std::uint64_t& word = bits_[bit / 64];
    if ((word & (std::uint64_t{1} << (bit % 64))) != 0) return;
    word |= std::uint64_t{1} << (bit % 64);
    --zero_bits_;
    // n = -m ln(V): V the share of bits still zero (all set: at least m ln m).
    const double m = static_cast<double>(kNetworkBits);
    estimate_ = zero_bits_ == 0 ? m * std::log(m) : -m * std::log(static_cast<double>(zero_bits_) / m);
}

void WindowLearner::close(LearnedWindows& learned, std::size_t scale, const Open& w, bool whole) {
    if (w.index == std::numeric_limits<std::int64_t>::min()) return;
    const std::size_t hour = hour_of_day(static_cast<double>(w.index) * kWindowSeconds[scale]);
    for (std::size_t m = 0; m < kWindowMetrics; ++m) {
        const double x = m < 2 ? w.sum[m] : w.networks.estimate();
        WindowSums& s = learned.sums[scale][m][hour];
        s.max = std::max(s.max, x);  // a part of a window is still what it held
        if (!whole) continue;
        s.sum += x;
        s.squares += x * x;
        s.active += x > 0;
    }
}

void WindowLearner::add(const TextTable& part) {
    const auto name = part.column_index("process_name"), ip = part.column_index("dst_ip"),
               ts_end = part.column_index("ts_end"), sent = part.column_index("bytes_sent"), exe = part.column_index("exe"),
               unit = part.column_index("unit"), port = part.column_index("dst_port"), proto = part.column_index("proto");
    if (!name || !ip || !ts_end || !sent) return;
    std::string subject, key;  // one buffer each for every row
    for (std::size_t row = 0; row < part.rows(); ++row) {
        const double ts = number(part.cell(row, *ts_end)), bytes = number(part.cell(row, *sent));
        std::uint16_t dst_port = 0;
        if (port) {
            const std::string_view cell = part.cell(row, *port);
            std::from_chars(cell.data(), cell.data() + cell.size(), dst_port);
        }
        const std::optional<Endpoint> dst = parse_endpoint(part.cell(row, *ip), dst_port);
        if (!std::isfinite(ts) || !std::isfinite(bytes) || !dst) continue;
        first_ = std::min(first_, ts);
        last_ = std::max(last_, ts);
        ReachBaseline::subject_into(part.cell(row, *name), exe ? part.cell(row, *exe) : std::string_view{},
                                    unit ? part.cell(row, *unit) : std::string_view{}, subject);
        const ReachKey k = reach_key(*dst, proto ? part.cell(row, *proto) : std::string_view{});
        const NetworkKey net = network_key(k);
        for (const WindowScope scope : {WindowScope::Destination, WindowScope::Service}) {
            window_key_into(subject, k, scope, key);
            auto it = programs_.find(key);
            if (it == programs_.end()) {
                if (programs_.size() >= max_programs_) {
                    ++left_out_;
                    continue;
                }
                it = programs_.emplace(key, Program{}).first;
            }
            Program& p = it->second;
            for (std::size_t s = 0; s < kScales; ++s) {
                Open& w = p.open[s];
                const auto index = static_cast<std::int64_t>(std::floor(ts / kWindowSeconds[s]));
                if (index > w.index) {  // a new window (a record a little out of order joins the open one)
                    const auto span_first = static_cast<std::int64_t>(std::floor(first_ / kWindowSeconds[s]));
                    close(p.learned, s, w, w.index > span_first);
                    w = Open{};
                    w.index = index;
                }
                w.sum[0] += bytes;
                w.sum[1] += 1;
                w.networks.add(net);
            }
        }
    }
}

WindowBaseline learn_windows(const TextTable& table) {
    WindowLearner learner;
    learner.add(table);
    return learner.finish();
}

WindowBaseline WindowLearner::finish() const {
    WindowBaseline out;
    if (programs_.empty()) return out;
    // Whole windows of each hour: those strictly inside the records' span
    // (learning saw only part of its first and last).
    LearnedWindows span;
    for (std::size_t s = 0; s < kScales; ++s) {
        const double w = kWindowSeconds[s];
        const auto lo = static_cast<std::int64_t>(std::floor(first_ / w)), hi = static_cast<std::int64_t>(std::floor(last_ / w));
        for (std::int64_t i = lo + 1; i < hi; ++i) ++span.whole[s][hour_of_day(static_cast<double>(i) * w)];
    }
    for (const auto& [subject, p] : programs_) {
        LearnedWindows& l = out.emplace(subject, p.learned).first->second;
        l.whole = span.whole;
        for (std::size_t s = 0; s < kScales; ++s) {
            const double w = kWindowSeconds[s];
            const auto lo = static_cast<std::int64_t>(std::floor(first_ / w)), hi = static_cast<std::int64_t>(std::floor(last_ / w));
            close(l, s, p.open[s], p.open[s].index > lo && p.open[s].index < hi);
        }
    }
    return out;
}

const std::vector<WindowFinding>& WindowWatch::add(const WindowBaseline& learned, std::string_view subject, double ts,
                                                   std::uint64_t bytes_sent, const ReachKey& dst) {
    found_.clear();
    window_key_into(subject, dst, WindowScope::Service, key_);
    const auto service = learned.find(key_);
    judge(learned, WindowScope::Service, ts, bytes_sent, dst, service == learned.end() ? nullptr : &service->second);
    window_key_into(subject, dst, WindowScope::Destination, key_);
    judge(learned, WindowScope::Destination, ts, bytes_sent, dst, service == learned.end() ? nullptr : &service->second);
    return found_;
}

namespace {

// Windows learning saw hold something, at one scale.
double active_windows(const LearnedWindows& l, std::size_t scale) {
    double active = 0;
    for (const WindowSums& h : l.sums[scale][static_cast<std::size_t>(WindowMetric::Connections)]) active += h.active;
    return active;
}

}  // namespace

void WindowWatch::judge(const WindowBaseline& learned, WindowScope scope, double ts, std::uint64_t bytes_sent,
                        const ReachKey& dst, const LearnedWindows* service) {
    auto it = programs_.find(key_);
    if (it == programs_.end()) {
        if (programs_.size() >= max_programs_) {
            auto quiet = std::min_element(programs_.begin(), programs_.end(),
                                          [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
            programs_.erase(quiet);
            ++evictions_;
        }
        it = programs_.emplace(key_, Program{}).first;
    }
    Program& p = it->second;
    p.last = std::max(p.last, ts);
    const auto found = learned.find(key_);
    const LearnedWindows* own = found == learned.end() ? nullptr : &found->second;
    const NetworkKey net = network_key(dst);
    for (std::size_t s = 0; s < kScales; ++s) {
        Running& r = p.scale[s];
        const auto index = static_cast<std::int64_t>(std::floor(ts / kWindowSeconds[s]));
        if (index > r.index) {  // a new window (records a little out of order join the current one)
            r = Running{};
            r.index = index;
            // A destination learning met rarely (or never: a new one, a
            // wandering program's) has no sums of its own to speak of: its
            // program's on that service stand in.
            const LearnedWindows* known = own;
            if (scope == WindowScope::Destination && (own == nullptr || active_windows(*own, s) < kMinActiveWindows))
                known = service;
            r.service_limits = known != nullptr && known != own;
            r.learned_service = known != nullptr;
            for (std::size_t m = 0; m < kWindowMetrics; ++m) {
                const auto metric = static_cast<WindowMetric>(m);
                if (known == nullptr) {
                    r.limit[m] = unlearned_limit(metric);
                    continue;
                }
                r.learned[m] = learned_limit(*known, s, metric, static_cast<double>(index) * kWindowSeconds[s], &r.hours);
                r.judged = r.learned[m].whole >= kMinWholeWindows;
                r.limit[m] = window_limit(r.learned[m], metric);
            }
        }
        if (!r.judged) {
            ++unjudged_;
            continue;
        }
        r.sum[0] += static_cast<double>(bytes_sent);
        r.largest = std::max(r.largest, static_cast<double>(bytes_sent));
        r.sum[1] += 1;
        r.networks.add(net);
        r.sum[2] = r.networks.estimate();
        for (std::size_t m = 0; m < kWindowMetrics; ++m) {
            if (!judges(scope, static_cast<WindowMetric>(m)) || r.fired[m] || r.sum[m] <= r.limit[m]) continue;
            // Bytes one connection sent are that connection's to judge (LOF,
            // novelty): the window alerts on what it holds beside its largest.
            if (m == 0 && r.sum[m] - r.largest <= r.limit[m]) continue;
            r.fired[m] = true;
            found_.push_back({static_cast<WindowMetric>(m), kWindowSeconds[s], r.sum[m], r.learned[m], r.limit[m], r.hours,
                              r.learned_service, r.service_limits});
        }
    }
}

}  // namespace netlof
