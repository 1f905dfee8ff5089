// The SVG plots: escaped text, round ticks, and one mark for each thing drawn.
#include <catch2/catch.hpp>

#include "userspace/report/svg_chart.hpp"

using namespace netlof;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

TEST_CASE("svg: text is escaped, numbers are short", "[unit][report]") {
    CHECK(escape_html("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    CHECK(si_number(950) == "950");
    CHECK(si_number(1234567) == "1.23M");
    CHECK(si_number(3.64e9) == "3.64G");
    CHECK(si_number(20000) == "20k");
}

TEST_CASE("svg: ticks are round and cover the range", "[unit][report]") {
    const std::vector<double> t = nice_ticks(0, 1234);
    REQUIRE(t.size() >= 3);
    CHECK(t.front() == 0);
    CHECK(t.back() >= 1000);
    CHECK(t[1] - t[0] == Approx(500).epsilon(1e-12));  // 0, 500, 1000 (1234 / 5 rounds up to 500)
    CHECK(nice_ticks(0, 0).size() >= 2);               // a flat series still has an axis
}

TEST_CASE("svg: one mark per series, bar, point; names escaped inside", "[unit][report]") {
    const std::string lines = svg_time_lines("c", "connections", {0, 10, 20},
                                             {{"<evil>", {1, 2, 3}}, {"b", {0, 0, 5}}});
    CHECK(count(lines, "class=\"mark\"") == 2);
    CHECK(lines.find("data-plot=\"c\"") != std::string::npos);
    CHECK(lines.find("<evil>") == std::string::npos);
    CHECK(lines.find("&lt;evil&gt;") != std::string::npos);

    const std::string hist = svg_log_histogram("s", "lof", {0, 0.5, 1, 1.5}, {10, 0, 2}, 5);
    CHECK(count(hist, "class=\"mark\"") == 2);  // an empty bin draws nothing
    CHECK(count(hist, "class=\"threshold\"") == 1);
    CHECK(count(svg_log_histogram("s", "lof", {0, 1}, {3}, 0), "class=\"threshold\"") == 0);

    const std::string timeline = svg_timeline("a", {"lof_anomaly", "new_port"},
                                              {{5, 0, 0, "x"}, {6, 1, 1, "y"}, {7, 1, 1, "z & w"}}, 0, 10);
    CHECK(count(timeline, "<circle class=\"mark\"") == 3);
    CHECK(timeline.find("z &amp; w") != std::string::npos);

    CHECK(count(svg_bars("d", {"a", "b"}, {3, 1}, {"3", "1"}), "<rect class=\"mark\"") == 2);
}
