#include "userspace/report/report_page.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/core.h>
#include <map>

#include "userspace/report/svg_chart.hpp"

namespace netlof {

namespace {

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 960px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ccc; }
h3 { font-size: 14px; margin: 14px 0 2px; }
.meta { color: #666; font-size: 12px; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; }
td.time { white-space: nowrap; }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
.none { color: #888; font-style: italic; }
.output { font-family: monospace; font-size: 12px; }
)";

std::string utc_text(double t) {
    const std::time_t s = static_cast<std::time_t>(std::floor(t));
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[40];
    return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm));
}

std::string duration_text(double s) {
    if (s < 120) return fmt::format("{:.0f} s", s);
    if (s < 7200) return fmt::format("{:.1f} min", s / 60);
    if (s < 172800) return fmt::format("{:.1f} h", s / 3600);
    return fmt::format("{:.1f} days", s / 86400);
}

std::string legend(const std::vector<ProcessSeries>& processes) {
    std::string s = "<div class=\"legend\">";
    for (std::size_t i = 0; i < processes.size(); ++i)
        s += fmt::format("<span><i style=\"background:{}\"></i>{}</span>", series_color(i), escape_html(processes[i].name));
    return s + "</div>\n";
}

std::string row(std::string_view key, const std::string& value) {
    return fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", escape_html(key), value);
}

}  // namespace

std::string render_report_html(const ReportData& d, const std::optional<LearningSummary>& learning,
                               const ReportSources& src) {
    std::string h;
    h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
    h += fmt::format("<title>netlof report: {}</title>\n", escape_html(src.host));
    h += std::string("<style>") + kStyle + "</style></head><body>\n";
    h += fmt::format("<h1>netlof report: {}</h1>\n<p class=\"meta\">netlof {}, generated {} from {}{}</p>\n",
                     escape_html(src.host), escape_html(src.version), utc_text(src.generated_at),
                     escape_html(src.records_file), src.alerts_file.empty() ? "" : " and " + escape_html(src.alerts_file));

    // Summary.
    h += "<h2 id=\"summary\">Summary</h2>\n<table>\n";
    h += row("connections", fmt::format("{}", d.records));
    h += row("time span", d.records ? fmt::format("{} to {} ({})", utc_text(d.first), utc_text(d.last),
                                                  duration_text(d.last - d.first))
                                    : "<span class=\"none\">no records</span>");
    h += row("processes", fmt::format("{}", d.process_count));
    std::string by_rule;
    for (const auto& [rule, n] : d.alerts_by_rule) by_rule += fmt::format("{}{} {}", by_rule.empty() ? "" : ", ", escape_html(rule), n);
    h += row("alert lines", src.alerts_file.empty() ? "<span class=\"none\">no alert file given</span>"
                                                    : fmt::format("{}{}", d.alerts.size(), by_rule.empty() ? "" : " (" + by_rule + ")"));
    h += "</table>\n";

    // Traffic per process.
    std::vector<ChartSeries> connections, bytes;
    for (const ProcessSeries& p : d.processes) {
        connections.push_back({fmt::format("{}: {} connections", p.name, p.total_connections), p.connections});
        bytes.push_back({fmt::format("{}: {} bytes", p.name, si_number(static_cast<double>(p.total_bytes))), p.bytes});
    }
    // The last series sums the quieter processes when there are more than it draws apart.
    const std::size_t apart = d.processes.size() < d.process_count ? d.processes.size() - 1 : d.processes.size();
    h += fmt::format("<h2 id=\"connections\">Connections per process</h2>\n<p class=\"meta\">connections ended per {}; {}</p>\n",
                     duration_text(d.bucket_s),
                     apart < d.process_count
                         ? fmt::format("the {} busiest of {} processes apart, the other {} summed", apart, d.process_count,
                                       d.process_count - apart)
                         : fmt::format("{} process{}", d.process_count, d.process_count == 1 ? "" : "es"));
    h += legend(d.processes);
    h += svg_time_lines("connections", "connections", d.bucket_starts, connections);
    h += fmt::format("<h2 id=\"bytes\">Bytes per process</h2>\n<p class=\"meta\">bytes sent and received per {}</p>\n",
                     duration_text(d.bucket_s));
    h += legend(d.processes);
    h += svg_time_lines("bytes", "bytes", d.bucket_starts, bytes);

    // Scores.
    h += "<h2 id=\"scores\">LOF scores</h2>\n";
    if (d.scores && d.scores->scored > 0) {
        const ScoreHistogram& s = *d.scores;
        h += fmt::format("<p class=\"meta\">every record scored by the model: {} records, lof from {:.3g} to {:.3g} "
                         "(median {:.3g}); {} above the threshold {:.4g}. The daemon alerts only on those no allowlist "
                         "or earlier rule judged first.</p>\n",
                         s.scored, s.min, s.max, s.median, s.above_threshold, learning ? learning->threshold : 0.0);
        h += svg_log_histogram("scores", "lof (log scale)", s.edges, s.counts, learning ? learning->threshold : 0.0);
    } else {
        h += "<p class=\"none\">no model given (--model or --config): the records were not scored</p>\n";
    }

    // Alerts.
    h += "<h2 id=\"alerts\">Alerts by kind</h2>\n";
    if (!d.alerts.empty()) {
        std::vector<std::string> rules;
        for (const auto& [rule, _] : d.alerts_by_rule) rules.push_back(rule);
        std::map<std::string, std::size_t> row_of;
        for (std::size_t i = 0; i < rules.size(); ++i) row_of[rules[i]] = i;
        std::vector<TimelinePoint> points;
        for (const AlertLine& a : d.alerts)
            points.push_back({a.time, row_of[a.rule], row_of[a.rule],
                              fmt::format("{} {} ({}): {}", utc_text(a.time), a.rule, a.priority, a.output)});
        const double t0 = std::min(d.first, d.alerts.front().time), t1 = std::max(d.last, d.alerts.back().time);
        h += svg_timeline("alerts", rules, points, t0, t1);
        h += "<h3>The latest alerts</h3>\n<table>\n<tr><th>time</th><th>rule</th><th>priority</th><th>output</th></tr>\n";
        const std::size_t shown = std::min<std::size_t>(d.alerts.size(), 20);
        for (std::size_t i = d.alerts.size() - shown; i < d.alerts.size(); ++i) {
            const AlertLine& a = d.alerts[i];
            h += fmt::format("<tr><td class=\"time\">{}</td><td>{}</td><td>{}</td><td class=\"output\">{}</td></tr>\n", utc_text(a.time),
                             escape_html(a.rule), escape_html(a.priority), escape_html(a.output));
        }
        h += "</table>\n";
    } else {
        h += src.alerts_file.empty() ? "<p class=\"none\">no alert file given (--alerts)</p>\n"
                                     : "<p class=\"none\">no alert lines in the file</p>\n";
    }

    // Destinations.
    h += "<h2 id=\"destinations\">Top destinations per process</h2>\n";
    for (const ProcessDestinations& p : d.destinations) {
        h += fmt::format("<h3>{} <span class=\"meta\">{} destination{}</span></h3>\n", escape_html(p.process), p.distinct,
                         p.distinct == 1 ? "" : "s");
        std::vector<std::string> labels, texts;
        std::vector<double> values;
        for (const DestinationUse& dest : p.top) {
            labels.push_back(dest.address);
            values.push_back(static_cast<double>(dest.connections));
            texts.push_back(fmt::format("{} conn, {}B", dest.connections, si_number(static_cast<double>(dest.bytes))));
        }
        h += svg_bars("destinations-" + std::to_string(&p - d.destinations.data()), labels, values, texts);
    }
    if (d.destinations.empty()) h += "<p class=\"none\">no records</p>\n";

    // Learning.
    h += "<h2 id=\"learning\">Learning</h2>\n";
    if (learning) {
        const LearningSummary& l = *learning;
        std::string features;
        for (const std::string& f : l.features) features += (features.empty() ? "" : ", ") + escape_html(f);
        h += "<table>\n";
        h += row("model", escape_html(l.model_file));
        h += row("learned from", fmt::format("{} connections{}", l.training_rows,
                                             l.learned_rate_per_s > 0
                                                 ? fmt::format(" at {:.3g} a second (about {} of traffic)",
                                                               l.learned_rate_per_s,
                                                               duration_text(static_cast<double>(l.training_rows) / l.learned_rate_per_s))
                                                 : std::string()));
        h += row("programs learned", fmt::format("{} process names with their executables", l.learned_programs));
        h += row("pipeline", l.pipeline_file.empty() ? "<span class=\"none\">not named in the model</span>" : escape_html(l.pipeline_file));
        h += row("features", features);
        h += row("neighbours", fmt::format("{} (reachability floor {:g})", l.neighbors, l.reach_floor));
        h += row("threshold", escape_html(l.threshold_note));
        h += "</table>\n";
    } else {
        h += "<p class=\"none\">no model given (--model or --config)</p>\n";
    }
    h += "</body></html>\n";
    return h;
}

}  // namespace netlof
