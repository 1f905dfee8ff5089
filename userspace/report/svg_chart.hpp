// Plots as inline SVG text, for a report that opens without a network or a
// script: a few fixed chart kinds, each an <svg class="plot"
// data-plot="ID"> whose drawn marks carry class "mark" and a <title> (the
// browser's tooltip). No I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netlof {

// Text for HTML and SVG: & < > " ' escaped.
std::string escape_html(std::string_view text);

// A palette of distinguishable colours, cycled.
std::string_view series_color(std::size_t i);

// 1234567 -> "1.23M"; 950 -> "950".
std::string si_number(double v);

// "Y1, Y2, ..." round tick values covering [lo, hi], about `count` of them.
std::vector<double> nice_ticks(double lo, double hi, std::size_t count = 5);

struct ChartSeries {
    std::string name;
    std::vector<double> values;  // one per x
};

// Lines over time (x: unix seconds, bucket starts), y from 0.
std::string svg_time_lines(std::string_view id, std::string_view y_label, const std::vector<double>& times,
                           const std::vector<ChartSeries>& series);

// A histogram over log10 bins (edges: log10 values), y log-scaled counts,
// with a vertical line at log10(threshold) when threshold > 0.
std::string svg_log_histogram(std::string_view id, std::string_view x_label, const std::vector<double>& edges,
                              const std::vector<double>& counts, double threshold);

struct TimelinePoint {
    double time = 0;
    std::size_t row = 0;    // which row (kind) it sits on
    std::size_t color = 0;  // series_color index
    std::string title;      // tooltip
};
// Points on a time axis [t0, t1], one row per name.
std::string svg_timeline(std::string_view id, const std::vector<std::string>& rows,
                         const std::vector<TimelinePoint>& points, double t0, double t1);

// Horizontal bars, one per label, with value_text written at each bar's end.
std::string svg_bars(std::string_view id, const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::vector<std::string>& value_text);

}  // namespace netlof
