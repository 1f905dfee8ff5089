#include "userspace/report/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/core.h>
#include <iterator>

#include "userspace/report/time_steps.hpp"

namespace netlof {

namespace {

constexpr double kWidth = 900, kLeft = 72, kRight = 16, kTop = 14, kBottom = 38;

// "HH:MM" (UTC), with the date when the axis spans days, and seconds when it spans under two minutes.
std::string time_label(double t, double span_s) {
    const std::time_t s = static_cast<std::time_t>(std::floor(t));
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[32];
    const char* format = span_s >= 86400 ? "%m-%d %H:%M" : span_s < 120 ? "%H:%M:%S" : "%H:%M";
    return std::string(buf, std::strftime(buf, sizeof buf, format, &tm));
}

std::vector<double> time_ticks(double t0, double t1) {
    const double span = std::max(1.0, t1 - t0);
    double step = kRoundTimeSteps[std::size(kRoundTimeSteps) - 1];
    for (double s : kRoundTimeSteps)
        if (span / s <= 7) {
            step = s;
            break;
        }
    while (span / step > 7) step *= 2;
    std::vector<double> ticks;
    for (double t = std::ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) ticks.push_back(t);
    return ticks;
}

std::string open_svg(std::string_view id, double height, std::string_view label) {
    return fmt::format(
        "<svg class=\"plot\" data-plot=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" "
        "height=\"{}\" role=\"img\" aria-label=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
        escape_html(id), kWidth, height, kWidth, height, escape_html(label));
}

// Axis lines, x tick labels from a time range, y ticks from a value range.
std::string time_axes(double t0, double t1, double height, double x0, double x1) {
    std::string s;
    const double y_axis = height - kBottom;
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#444\"/>\n", x0, y_axis, x1, y_axis);
    const double span = t1 - t0;
    for (double t : time_ticks(t0, t1)) {
        const double x = x0 + (span > 0 ? (t - t0) / span : 0.5) * (x1 - x0);
        // Labels at either end stay inside the plot.
        const char* anchor = x > x1 - 30 ? "end" : x < x0 + 30 ? "start" : "middle";
        s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#444\"/>"
                         "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"{5}\">{4}</text>\n",
                         x, y_axis, y_axis + 4, y_axis + 16, time_label(t, span), anchor);
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#666\">UTC</text>\n", x1, height - 4);
    return s;
}

}  // namespace

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string_view series_color(std::size_t i) {
    static constexpr std::string_view kColors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                                   "#edc948", "#b07aa1", "#9c755f", "#ff9da7", "#bab0ac"};
    return kColors[i % std::size(kColors)];
}

std::string si_number(double v) {
    const double a = std::fabs(v);
    if (a >= 1e12) return fmt::format("{:.3g}T", v / 1e12);
    if (a >= 1e9) return fmt::format("{:.3g}G", v / 1e9);
    if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
    if (a >= 1e4) return fmt::format("{:.3g}k", v / 1e3);
    return fmt::format("{:.4g}", v);
}

std::vector<double> nice_ticks(double lo, double hi, std::size_t count) {
    if (!(hi > lo)) hi = lo + 1;
    const double raw = (hi - lo) / static_cast<double>(std::max<std::size_t>(1, count));
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    double step = mag;
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) {
            step = m * mag;
            break;
        }
    std::vector<double> ticks;
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step)
        ticks.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
    return ticks;
}

std::string svg_time_lines(std::string_view id, std::string_view y_label, const std::vector<double>& times,
                           const std::vector<ChartSeries>& series) {
    const double height = 240, x0 = kLeft, x1 = kWidth - kRight, y0 = height - kBottom, y1 = kTop;
    double top = 0;
    for (const ChartSeries& s : series)
        for (double v : s.values) top = std::max(top, v);
    const std::vector<double> ticks = nice_ticks(0, top > 0 ? top : 1);
    top = ticks.back();
    const double t0 = times.empty() ? 0 : times.front(), t1 = times.empty() ? 1 : times.back();
    auto x_of = [&](double t) { return x0 + (t1 > t0 ? (t - t0) / (t1 - t0) : 0.5) * (x1 - x0); };
    auto y_of = [&](double v) { return y0 - v / top * (y0 - y1); };

    std::string s = open_svg(id, height, y_label);
    for (double t : ticks)
        s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                         "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                         x0, y_of(t), x1, y_of(t), x0 - 6, y_of(t) + 4, si_number(t));
    s += fmt::format("<text transform=\"translate(12 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>\n",
                     (y0 + y1) / 2, escape_html(y_label));
    s += time_axes(t0, t1, height, x0, x1);
    for (std::size_t i = 0; i < series.size(); ++i) {
        std::string points;
        for (std::size_t b = 0; b < series[i].values.size() && b < times.size(); ++b)
            points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", x_of(times[b]), y_of(series[i].values[b]));
        if (times.size() == 1) points += fmt::format(" {:.1f},{:.1f}", x_of(times[0]) + 2, y_of(series[i].values[0]));
        s += fmt::format("<polyline class=\"mark\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" points=\"{}\">"
                         "<title>{}</title></polyline>\n",
                         series_color(i), points, escape_html(series[i].name));
    }
    return s + "</svg>\n";
}

std::string svg_log_histogram(std::string_view id, std::string_view x_label, const std::vector<double>& edges,
                              const std::vector<double>& counts, double threshold) {
    const double height = 240, x0 = kLeft, x1 = kWidth - kRight, y0 = height - kBottom, y1 = kTop;
    std::string s = open_svg(id, height, x_label);
    if (edges.size() < 2 || counts.size() + 1 != edges.size()) return s + "</svg>\n";
    const double lo = edges.front(), hi = edges.back();
    double top = 0;
    for (double c : counts) top = std::max(top, c);
    const double log_top = std::ceil(std::log10(top + 1));
    auto x_of = [&](double e) { return x0 + (e - lo) / (hi - lo) * (x1 - x0); };
    auto y_of = [&](double c) { return y0 - std::log10(c + 1) / std::max(1.0, log_top) * (y0 - y1); };
    for (int p = 0; p <= static_cast<int>(log_top); ++p) {
        const double c = std::pow(10.0, p);
        s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"#ddd\"/>"
                         "<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n",
                         x0, y_of(c - 1), x1, y_of(c - 1), x0 - 6, y_of(c - 1) + 4, si_number(c - (p == 0 ? 1 : 0)));
    }
    s += fmt::format("<text transform=\"translate(12 {}) rotate(-90)\" text-anchor=\"middle\">records (log)</text>\n",
                     (y0 + y1) / 2);
    for (std::size_t b = 0; b < counts.size(); ++b) {
        if (counts[b] <= 0) continue;
        const double xa = x_of(edges[b]), xb = x_of(edges[b + 1]);
        s += fmt::format("<rect class=\"mark\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
                         "<title>lof {:.3g} to {:.3g}: {} records</title></rect>\n",
                         xa, y_of(counts[b]), std::max(0.5, xb - xa - 0.5), y0 - y_of(counts[b]),
                         threshold > 0 && std::pow(10.0, edges[b]) >= threshold ? "#e15759" : "#4e79a7",
                         std::pow(10.0, edges[b]), std::pow(10.0, edges[b + 1]), static_cast<std::uint64_t>(counts[b]));
    }
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#444\"/>\n", x0, y0, x1, y0);
    // x ticks at round lof values within the range.
    for (double v : {0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 1e4, 1e5, 1e6}) {
        const double e = std::log10(v);
        if (e < lo || e > hi) continue;
        s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#444\"/>"
                         "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4:g}</text>\n",
                         x_of(e), y0, y0 + 4, y0 + 16, v);
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#666\">{}</text>\n", x1, height - 4,
                     escape_html(x_label));
    if (threshold > 0) {
        const double x = x_of(std::log10(threshold));
        s += fmt::format("<line class=\"threshold\" x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#b00\" "
                         "stroke-dasharray=\"4 3\" stroke-width=\"1.5\"><title>threshold lof &gt; {3:.4g}</title></line>"
                         "<text x=\"{4:.1f}\" y=\"{5}\" fill=\"#b00\" text-anchor=\"{6}\">threshold {3:.4g}</text>\n",
                         x, y0, y1, threshold, x > x1 - 120 ? x - 4 : x + 4, y1 + 10, x > x1 - 120 ? "end" : "start");
    }
    return s + "</svg>\n";
}

std::string svg_timeline(std::string_view id, const std::vector<std::string>& rows,
                         const std::vector<TimelinePoint>& points, double t0, double t1) {
    const double row_h = 22, left = 170, x1 = kWidth - kRight;
    const double height = kTop + row_h * static_cast<double>(std::max<std::size_t>(1, rows.size())) + kBottom;
    std::string s = open_svg(id, height, "alerts by kind over time");
    if (t1 <= t0) {
        t0 -= 30;
        t1 += 30;
    }
    auto x_of = [&](double t) { return left + (t - t0) / (t1 - t0) * (x1 - left); };
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const double y = kTop + row_h * (static_cast<double>(r) + 0.5);
        s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#eee\"/>"
                         "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n",
                         left, y, x1, y, left - 8, y + 4, escape_html(rows[r]));
    }
    s += time_axes(t0, t1, height, left, x1);
    for (const TimelinePoint& p : points) {
        const double y = kTop + row_h * (static_cast<double>(p.row) + 0.5);
        s += fmt::format("<circle class=\"mark\" cx=\"{:.1f}\" cy=\"{}\" r=\"4.5\" fill=\"{}\" fill-opacity=\"0.75\">"
                         "<title>{}</title></circle>\n",
                         x_of(p.time), y, series_color(p.color), escape_html(p.title));
    }
    return s + "</svg>\n";
}

std::string svg_bars(std::string_view id, const std::vector<std::string>& labels, const std::vector<double>& values,
                     const std::vector<std::string>& value_text) {
    const double bar_h = 18, left = 230, x1 = kWidth - 150;
    const double height = 8 + bar_h * static_cast<double>(std::max<std::size_t>(1, labels.size())) + 4;
    double top = 0;
    for (double v : values) top = std::max(top, v);
    std::string s = open_svg(id, height, "top destinations");
    for (std::size_t i = 0; i < labels.size() && i < values.size(); ++i) {
        const double y = 6 + bar_h * static_cast<double>(i);
        const double w = top > 0 ? std::max(1.0, values[i] / top * (x1 - left)) : 1;
        s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>"
                         "<rect class=\"mark\" x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{}\" fill=\"#4e79a7\">"
                         "<title>{}: {}</title></rect><text x=\"{:.1f}\" y=\"{}\">{}</text>\n",
                         left - 8, y + 12, escape_html(labels[i]), left, y + 2, w, bar_h - 5, escape_html(labels[i]),
                         escape_html(i < value_text.size() ? value_text[i] : ""), left + w + 6, y + 12,
                         escape_html(i < value_text.size() ? value_text[i] : ""));
    }
    return s + "</svg>\n";
}

}  // namespace netlof
