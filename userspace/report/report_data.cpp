#include "userspace/report/report_data.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <fmt/core.h>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "common/diagnostic.hpp"
#include "common/ip_address.hpp"
#include "userspace/report/time_steps.hpp"

namespace netlof {

namespace {

[[noreturn]] void alert_error(const std::string& file, std::size_t line, std::string_view text, std::string field,
                              std::string message) {
    Diagnostic d;
    d.file = file;
    d.line = line;
    d.field = std::move(field);
    d.message = std::move(message);
    d.source_line = std::string(text.substr(0, 200));
    throw InputError(std::move(d));
}

std::string destination_text(const ConnectionRecord& r) {
    const std::string ip = ip_text(r.dst_ip);
    return fmt::format("{}:{}/{}", r.family() == 6 ? "[" + ip + "]" : ip, r.dst_port, r.proto.empty() ? "?" : r.proto);
}

}  // namespace

std::optional<double> parse_iso8601_utc(std::string_view text) {
    // YYYY-MM-DDTHH:MM:SS[.frac]Z
    if (text.size() < 20 || text.back() != 'Z' || text[4] != '-' || text[7] != '-' || text[10] != 'T' ||
        text[13] != ':' || text[16] != ':')
        return std::nullopt;
    auto digits = [&](std::size_t at, std::size_t n) -> int {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) {
            if (text[i] < '0' || text[i] > '9') return -1;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    std::tm tm{};
    const int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
    const int hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
    if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    double fraction = 0;
    const std::string_view rest = text.substr(19, text.size() - 20);
    if (!rest.empty()) {
        if (rest[0] != '.' || rest.size() < 2) return std::nullopt;
        double scale = 0.1;
        for (char c : rest.substr(1)) {
            if (c < '0' || c > '9') return std::nullopt;
            fraction += (c - '0') * scale;
            scale /= 10;
        }
    }
    return static_cast<double>(timegm(&tm)) + fraction;
}

std::vector<AlertLine> parse_alert_lines(std::string_view text, const std::string& file) {
    std::vector<AlertLine> out;
    std::size_t line_no = 0;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::parse_error& e) {
            alert_error(file, line_no, line, "", std::string("not JSON: ") + e.what());
        }
        if (!j.is_object()) alert_error(file, line_no, line, "", "expected one JSON object a line (a netlof alert)");
        auto text_field = [&](const char* key) -> std::string {
            const auto it = j.find(key);
            if (it == j.end() || !it->is_string())
                alert_error(file, line_no, line, key, "missing or not a string (not a netlof alert line?)");
            return it->get<std::string>();
        };
        AlertLine a;
        const std::string time = text_field("time");
        const std::optional<double> t = parse_iso8601_utc(time);
        if (!t) alert_error(file, line_no, line, "time", "'" + time + "' is not a UTC time like 2026-01-31T12:00:00.000000Z");
        a.time = *t;
        a.rule = text_field("rule");
        a.priority = text_field("priority");
        a.output = text_field("output");
        if (const auto f = j.find("output_fields"); f != j.end() && f->is_object())
            if (const auto p = f->find("proc.name"); p != f->end() && p->is_string()) a.process = p->get<std::string>();
        out.push_back(std::move(a));
    }
    return out;
}

double bucket_width(double span_s, std::size_t max_buckets) {
    for (double w : kRoundTimeSteps)
        if (span_s / w < static_cast<double>(max_buckets)) return w;
    return std::ceil(span_s / 86400.0 / static_cast<double>(max_buckets)) * 86400.0;
}

ReportData build_report_data(const std::vector<ConnectionRecord>& records, std::vector<AlertLine> alerts,
                             const std::vector<double>* scores, double threshold, const ReportLimits& limits) {
    ReportData d;
    d.records = records.size();
    std::sort(alerts.begin(), alerts.end(), [](const AlertLine& a, const AlertLine& b) { return a.time < b.time; });
    if (!records.empty()) {
        d.first = d.last = records.front().ts_end;
        for (const ConnectionRecord& r : records) {
            d.first = std::min(d.first, r.ts_end);
            d.last = std::max(d.last, r.ts_end);
        }
    } else if (!alerts.empty()) {
        d.first = alerts.front().time;
        d.last = alerts.back().time;
    }
    d.bucket_s = bucket_width(d.last - d.first, limits.max_buckets);
    const double start = std::floor(d.first / d.bucket_s) * d.bucket_s;
    const std::size_t buckets = static_cast<std::size_t>((d.last - start) / d.bucket_s) + 1;
    for (std::size_t b = 0; b < buckets; ++b) d.bucket_starts.push_back(start + static_cast<double>(b) * d.bucket_s);
    auto bucket_of = [&](double t) {
        return std::min(buckets - 1, static_cast<std::size_t>(std::max(0.0, (t - start) / d.bucket_s)));
    };

    // Per process: totals, then the series of the busiest.
    struct Totals {
        std::uint64_t connections = 0, bytes = 0;
        std::unordered_map<std::string, DestinationUse> destinations;
    };
    std::map<std::string, Totals> by_process;
    for (const ConnectionRecord& r : records) {
        Totals& t = by_process[r.process_name];
        ++t.connections;
        t.bytes += r.bytes_sent + r.bytes_received;
        std::string dst = destination_text(r);
        DestinationUse& dest = t.destinations[dst];
        if (dest.address.empty()) dest.address = std::move(dst);
        ++dest.connections;
        dest.bytes += r.bytes_sent + r.bytes_received;
    }
    d.process_count = by_process.size();
    std::vector<const std::pair<const std::string, Totals>*> order;
    for (const auto& p : by_process) order.push_back(&p);
    std::stable_sort(order.begin(), order.end(),
                     [](auto* a, auto* b) { return a->second.connections > b->second.connections; });
    std::unordered_map<std::string, std::size_t> series_of;
    const std::size_t apart = order.size() > limits.series ? limits.series - 1 : order.size();
    for (std::size_t i = 0; i < order.size(); ++i) {
        if (i < apart) {
            series_of[order[i]->first] = i;
            d.processes.push_back({order[i]->first, {}, {}, 0, 0});
        } else {
            if (i == apart) d.processes.push_back({"other processes", {}, {}, 0, 0});
            series_of[order[i]->first] = apart;
        }
    }
    for (ProcessSeries& s : d.processes) {
        s.connections.assign(buckets, 0);
        s.bytes.assign(buckets, 0);
    }
    for (const ConnectionRecord& r : records) {
        ProcessSeries& s = d.processes[series_of[r.process_name]];
        const std::size_t b = bucket_of(r.ts_end);
        s.connections[b] += 1;
        s.bytes[b] += static_cast<double>(r.bytes_sent + r.bytes_received);
        ++s.total_connections;
        s.total_bytes += r.bytes_sent + r.bytes_received;
    }

    for (std::size_t i = 0; i < std::min(order.size(), limits.destination_processes); ++i) {
        ProcessDestinations pd;
        pd.process = order[i]->first;
        pd.distinct = order[i]->second.destinations.size();
        for (const auto& [_, dest] : order[i]->second.destinations) pd.top.push_back(dest);
        std::sort(pd.top.begin(), pd.top.end(), [](const DestinationUse& a, const DestinationUse& b) {
            return a.connections != b.connections ? a.connections > b.connections : a.address < b.address;
        });
        if (pd.top.size() > limits.destinations_each) pd.top.resize(limits.destinations_each);
        d.destinations.push_back(std::move(pd));
    }

    std::map<std::string, std::uint64_t> rules;
    for (const AlertLine& a : alerts) ++rules[a.rule];
    d.alerts_by_rule.assign(rules.begin(), rules.end());
    std::stable_sort(d.alerts_by_rule.begin(), d.alerts_by_rule.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    d.alerts = std::move(alerts);

    if (scores && !scores->empty()) {
        ScoreHistogram h;
        std::vector<double> finite;
        finite.reserve(scores->size());
        for (double s : *scores)
            if (std::isfinite(s) && s > 0) finite.push_back(s);
        h.scored = finite.size();
        for (double s : finite) h.above_threshold += s > threshold;
        if (!finite.empty()) {
            std::sort(finite.begin(), finite.end());
            h.min = finite.front();
            h.max = finite.back();
            h.median = finite[finite.size() / 2];
            // Bins on log10(lof): scores crowd near 1 and the tail runs to
            // hundreds; the threshold must fall inside the drawn range.
            const double lo = std::log10(std::min(h.min, threshold > 0 ? threshold : h.min));
            double hi = std::log10(std::max(h.max, threshold > 0 ? threshold : h.max));
            if (hi - lo < 1e-9) hi = lo + 0.1;
            const std::size_t bins = limits.score_bins;
            for (std::size_t b = 0; b <= bins; ++b) h.edges.push_back(lo + (hi - lo) * static_cast<double>(b) / bins);
            h.counts.assign(bins, 0);
            for (double s : finite) {
                const double x = (std::log10(s) - lo) / (hi - lo) * static_cast<double>(bins);
                h.counts[std::min(bins - 1, static_cast<std::size_t>(std::max(0.0, x)))] += 1;
            }
        }
        d.scores = std::move(h);
    }
    return d;
}

}  // namespace netlof
