// Behaviour over time: what no single connection shows. For each program
// (the reach baseline's subject: its executable, or its name when that is
// unknown), connections are summed in tumbling windows of one and ten
// minutes: bytes sent, connections, and distinct destination networks.
//
// Learning keeps, per program and window length, the mean, standard
// deviation and largest value of each sum over the windows from its first
// to its last learned connection (quiet windows count as 0). A window whose
// sum passes both the mean plus kSpreads standard deviations and kOverMax
// times the largest learned window raises one alert for that window:
// volume_spike (slow exfiltration, a tunnel's traffic), connection_burst
// (a tunnel's queries, a flood), fan_out (scanning). Small sums never alert
// (kFloor: a program that connected once while learning may connect twice);
// a program learning never saw has no windows, and kUnlearned stands in.
// A window length learning did not see kMinWholeWindows times whole is not
// judged for the programs it learned (their mean and spread would rest on a
// part of a window): counted, not guessed.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "rules/reach_baseline.hpp"

namespace netlof {

class TextTable;

inline constexpr std::array<double, 2> kWindowSeconds = {60, 600};
inline constexpr double kSpreads = 8;
inline constexpr double kOverMax = 1.25;
inline constexpr std::uint32_t kMinWholeWindows = 5;

enum class WindowMetric { BytesSent = 0, Connections = 1, Networks = 2 };
inline constexpr std::size_t kWindowMetrics = 3;
// The least a window must hold to alert: bytes sent, connections, networks.
inline constexpr std::array<double, kWindowMetrics> kFloor = {64.0 * 1024, 50, 8};
inline constexpr std::array<double, kWindowMetrics> kUnlearned = {64.0 * 1024 * 1024, 1000, 64};
// Distinct networks in a running window are estimated by linear counting
// (Whang et al. 1990) over this many bits: 128 bytes a window, within a few
// percent up to a few thousand networks, and exact in expectation below.
inline constexpr std::size_t kNetworkBits = 1024;

struct WindowLimit {
    double mean = 0, sd = 0, max = 0;
    std::uint32_t whole = 0;  // whole windows of this length learning saw
    bool operator==(const WindowLimit&) const = default;
};
// What a window must pass to alert.
double window_limit(const WindowLimit& learned, WindowMetric m);
double unlearned_limit(WindowMetric m);

// One program's learned windows: [scale][metric].
using LearnedWindows = std::array<std::array<WindowLimit, kWindowMetrics>, kWindowSeconds.size()>;
using WindowBaseline = std::map<std::string, LearnedWindows, std::less<>>;

// The windows of a table of connection records (process_name, dst_ip,
// ts_end, bytes_sent; exe when present).
WindowBaseline learn_windows(const TextTable& table);
// The same over records that come a part at a time (a part that lacks one of
// those columns adds nothing); more parts may follow a finish().
class WindowLearner {
public:
    void add(const TextTable& part);
    WindowBaseline finish() const;

private:
    struct Seen {
        double ts;
        double bytes;
        NetworkKey network;
    };
    std::map<std::string, std::vector<Seen>, std::less<>> by_subject_;
    double first_ = HUGE_VAL, last_ = -HUGE_VAL;  // the records' time span
};

// A window that passed its limit.
struct WindowFinding {
    WindowMetric metric;
    double seconds;      // the window's length
    double value;        // its sum so far
    WindowLimit learned; // zero when the program has none
    double limit;
};

// The running windows, bounded: at most max_programs programs are watched
// at once (the one quiet longest makes room; counted); each holds two
// windows of about 180 bytes.
class WindowWatch {
public:
    explicit WindowWatch(std::size_t max_programs = 16384) : max_programs_(max_programs) {}
    // Adds one connection that ended at ts; returns the windows it pushed
    // past their limits (each window alerts once). The buffer is reused.
    const std::vector<WindowFinding>& add(const WindowBaseline& learned, std::string_view subject, double ts,
                                          std::uint64_t bytes_sent, const ReachKey& dst);
    std::uint64_t evictions() const { return evictions_; }
    // Window judgements skipped because learning was too short for that length:
    // one per connection of a learned program and window length.
    std::uint64_t unjudged() const { return unjudged_; }

private:
    struct Running {
        std::int64_t index = -1;
        std::array<double, kWindowMetrics> sum{};
        std::array<std::uint64_t, kNetworkBits / 64> network_bits{};
        std::uint32_t zero_bits = kNetworkBits;
        std::array<bool, kWindowMetrics> fired{};
    };
    struct Program {
        std::array<Running, kWindowSeconds.size()> scale;
        double last = 0;
    };
    std::map<std::string, Program, std::less<>> programs_;
    std::size_t max_programs_;
    std::uint64_t evictions_ = 0, unjudged_ = 0;
    std::vector<WindowFinding> found_;
};


}  // namespace netlof
