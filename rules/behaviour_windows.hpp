// Behaviour over time: what no single connection shows. For each program
// (rules/program_identity.hpp), connections are summed in tumbling windows
// of one and ten minutes: bytes sent and connections to each destination
// network on each service (protocol and port) it uses, and the distinct
// networks it reaches on each service. Apart, because a program's services
// keep different paces: an app's slow upload to its API is not hidden by the
// bulk of its database traffic, nor a deploy's new API counted as a burst of
// the old one's.
//
// Servers live by the clock: the afternoon peak is ten times the night, a
// backup runs at 02:00. Learning therefore keeps, per program, window length
// and metric, the sums over the whole windows that started in each hour of
// the day (UTC), quiet windows counting as 0, in running sums (memory does
// not grow with the connection rate or the length of learning). A window is
// judged against its hour's level: the mean of the windows learned in its
// own hour of the day and the hours either side (a job that starts a little
// late, a clock change). How far windows stray from their level is learned
// from every hour at once: sums of connections that arrive at an hour's rate
// vary as compound Poisson sums do, their variance the level times a
// dispersion that does not depend on the rate, so a day of learning judges
// each hour's spread on 1,440 one-minute windows, not on that hour's 180. A program
// active in fewer than kMinActiveWindows windows (an admin's ssh) has no
// rhythm to learn: it is judged on every hour pooled, as are all programs
// where the window's hours hold fewer than kMinWholeWindows whole windows
// (learning shorter than a day); where even all hours do, the window is not
// judged: counted, not guessed. Days of the week are not told apart:
// a quiet weekend is judged against weekday limits (it never exceeds them),
// and a weekly job is new until relearning has seen it.
//
// A window whose sum passes both the mean plus kSpreads standard deviations
// and kOverMax times the largest learned window raises one alert for that
// window: volume_spike (slow exfiltration, a tunnel's traffic),
// connection_burst (a tunnel's queries, a flood), fan_out (scanning). Small
// sums never alert (kFloor: a program that connected once while learning may
// connect twice); a program learning never saw has no windows, and
// kUnlearned stands in. Bytes a window holds count beside its largest
// connection: one large connection, however large, is that connection's to
// judge (LOF, novelty), not the window's.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
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
inline constexpr double kMinActiveWindows = 30;

enum class WindowMetric { BytesSent = 0, Connections = 1, Networks = 2 };
inline constexpr std::size_t kWindowMetrics = 3;
// The least a window must hold to alert: bytes sent, connections, networks.
inline constexpr std::array<double, kWindowMetrics> kFloor = {64.0 * 1024, 50, 8};
inline constexpr std::array<double, kWindowMetrics> kUnlearned = {64.0 * 1024 * 1024, 1000, 64};
inline constexpr std::size_t kNetworkBits = 1024;

struct WindowLimit {
    double mean = 0, sd = 0, max = 0;
    std::uint32_t whole = 0;  // whole windows of this length the limit rests on
    bool operator==(const WindowLimit&) const = default;
};
// What a window must pass to alert.
double window_limit(const WindowLimit& learned, WindowMetric m);
double unlearned_limit(WindowMetric m);

inline constexpr std::size_t kDayHours = 24;
inline constexpr std::size_t kScales = kWindowSeconds.size();
// The hour of the day (UTC) a window starting at ts falls in.
std::size_t hour_of_day(double ts);

// Running sums over the whole windows of one hour of the day.
struct WindowSums {
    double sum = 0, squares = 0, max = 0;  // max also over the partial first and last windows
    double active = 0;                     // whole windows that held something
    bool operator==(const WindowSums&) const = default;
};
// One program's learned windows.
struct LearnedWindows {
    std::array<std::array<std::uint32_t, kDayHours>, kScales> whole{};  // [scale][hour]: whole windows learned
    std::array<std::array<std::array<WindowSums, kDayHours>, kWindowMetrics>, kScales> sums{};  // [scale][metric][hour]
    bool operator==(const LearnedWindows&) const = default;
};
// What a window of this scale that started at window_start is judged
// against: its hour's level with the spread and largest learned over every
// hour, scaled to that level; or every hour pooled (see above). *hours is
// how many hours set the level (3, or 24). whole < kMinWholeWindows: not judged.
WindowLimit learned_limit(const LearnedWindows& learned, std::size_t scale, WindowMetric m, double window_start,
                          std::size_t* hours = nullptr);
// Bytes and connections are summed per destination network a program uses
// on a service (a new destination's traffic is not added to the learned
// destinations' sums); networks reached, per service. A destination learning
// met in fewer than kMinActiveWindows windows (a new one, a wandering
// program's) is judged against its program's sums on the service.
enum class WindowScope { Destination, Service };
bool judges(WindowScope scope, WindowMetric m);
// Keyed by window_key_into(): the program's key, a tab, ":", the service
// ("tcp/443") and, for a destination, its network ("tcp/443 10.0.2.0/24").
using WindowBaseline = std::map<std::string, LearnedWindows, std::less<>>;
void window_key_into(std::string_view subject, const ReachKey& dst, WindowScope scope, std::string& out);
// Adds what another span of learning saw: sums and whole windows add up (a
// program one span did not see was quiet through its windows), the largest
// is the larger.
void merge_windows(WindowBaseline& into, const WindowBaseline& from);

// Distinct networks in a window, estimated by linear counting (Whang et al.
// 1990) over kNetworkBits bits: 128 bytes a window, within a few percent up
// to a few thousand networks, and exact in expectation below. Learning and
// judging count alike.
class NetworkCount {
public:
    void add(const NetworkKey& k);
    double estimate() const { return estimate_; }

private:
    std::array<std::uint64_t, kNetworkBits / 64> bits_{};
    std::uint32_t zero_bits_ = kNetworkBits;
    double estimate_ = 0;
};

// The windows of a table of connection records (process_name, dst_ip,
// ts_end, bytes_sent; exe and unit when present), in the order they ended
// (a record a little out of order joins the window open).
WindowBaseline learn_windows(const TextTable& table);
// The same over records that come a part at a time (a part that lacks one of
// those columns adds nothing); more parts may follow a finish(). Holds each
// program's sums and open windows: about 4 KiB a program, at most
// max_programs programs (those beyond are counted, not learned).
class WindowLearner {
public:
    explicit WindowLearner(std::size_t max_programs = 16384) : max_programs_(max_programs) {}
    void add(const TextTable& part);
    WindowBaseline finish() const;
    std::uint64_t programs_left_out() const { return left_out_; }

private:
    struct Open {
        std::int64_t index = std::numeric_limits<std::int64_t>::min();
        std::array<double, kWindowMetrics> sum{};
        NetworkCount networks;
    };
    struct Program {
        std::array<Open, kScales> open;
        LearnedWindows learned;
    };
    // Adds a closed window's sums to learned (to the max only when partial).
    static void close(LearnedWindows& learned, std::size_t scale, const Open& w, bool whole);
    std::map<std::string, Program, std::less<>> programs_;
    std::size_t max_programs_;
    std::uint64_t left_out_ = 0;
    double first_ = HUGE_VAL, last_ = -HUGE_VAL;  // the records' time span
};

// A window that passed its limit.
struct WindowFinding {
    WindowMetric metric;
    double seconds;      // the window's length
    double value;        // its sum so far
    WindowLimit learned; // zero when the program has none
    double limit;
    std::size_t hours;   // hours of the day the learned sums are from (3: this one and either side; 24: all)
    bool learned_service; // learning saw the program use this service (else the unlearned limits apply)
    bool service_limits;  // a destination learning met rarely, judged by its program's sums on the service
};

// The running windows, bounded: at most max_programs programs are watched
// at once (the one quiet longest makes room; counted); each holds two
// windows of about 300 bytes.
class WindowWatch {
public:
    explicit WindowWatch(std::size_t max_programs = 16384) : max_programs_(max_programs) {}
    // Adds one connection that ended at ts; returns the windows it pushed
    // past their limits (each window alerts once). The buffer is reused.
    const std::vector<WindowFinding>& add(const WindowBaseline& learned, std::string_view subject, double ts,
                                          std::uint64_t bytes_sent, const ReachKey& dst);
    std::uint64_t evictions() const { return evictions_; }
    // Window judgements skipped because learning was too short for that length:
    // one per connection of a learned program, window length and scope.
    std::uint64_t unjudged() const { return unjudged_; }

private:
    struct Running {
        std::int64_t index = std::numeric_limits<std::int64_t>::min();
        std::array<double, kWindowMetrics> sum{};
        NetworkCount networks;
        std::array<bool, kWindowMetrics> fired{};
        double largest = 0;  // bytes of the largest connection in it
        // What this window is judged against, set when it opens.
        bool judged = true;
        std::array<WindowLimit, kWindowMetrics> learned{};
        std::array<double, kWindowMetrics> limit{};
        std::size_t hours = 0;
        bool service_limits = false;  // a destination judged by its program's service (see judge())
        bool learned_service = false;
    };
    struct Program {
        std::array<Running, kWindowSeconds.size()> scale;
        double last = 0;
    };
    void judge(const WindowBaseline& learned, WindowScope scope, double ts, std::uint64_t bytes_sent, const ReachKey& dst,
               const LearnedWindows* service);
    std::map<std::string, Program, std::less<>> programs_;
    std::string key_;
    std::size_t max_programs_;
    std::uint64_t evictions_ = 0, unjudged_ = 0;
    std::vector<WindowFinding> found_;
};


}  // namespace netlof
