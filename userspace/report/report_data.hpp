// What `netlof report` shows, computed from records, alert lines and
// (optionally) a model's scores: per-process series over time, top
// destinations, the alert timeline and the score distribution. No I/O: the
// command reads the files, this folds them into numbers, report_page draws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "userspace/records/connection_record.hpp"

namespace netlof {

// One alert line as the report needs it (Falco's shape: time, rule,
// priority, output; proc.name from output_fields).
struct AlertLine {
    double time = 0;  // unix seconds
    std::string rule;
    std::string priority;
    std::string process;
    std::string output;
};

// Parses netlof's alert file (JSON lines in Falco's shape). Throws
// InputError naming the file, line and field that is wrong; blank lines are
// skipped.
std::vector<AlertLine> parse_alert_lines(std::string_view text, const std::string& file);

// "2026-11-30T03:12:00.123456Z" -> unix seconds; nullopt when it is not one.
std::optional<double> parse_iso8601_utc(std::string_view text);

struct ProcessSeries {
    std::string name;  // a process name, or "other processes"
    std::vector<double> connections;  // per bucket
    std::vector<double> bytes;        // sent + received, per bucket
    std::uint64_t total_connections = 0;
    std::uint64_t total_bytes = 0;
};

struct DestinationUse {  // one destination of a process, and how much it was used
    std::string address;  // "10.0.0.1:443/tcp"
    std::uint64_t connections = 0;
    std::uint64_t bytes = 0;
};

struct ProcessDestinations {
    std::string process;
    std::uint64_t distinct = 0;  // destinations in all (the list holds the top ones)
    std::vector<DestinationUse> top;
};

struct ScoreHistogram {
    std::vector<double> edges;  // log10(lof) bin edges, bins + 1 of them
    std::vector<double> counts;
    std::uint64_t scored = 0;
    std::uint64_t above_threshold = 0;
    double min = 0, max = 0, median = 0;
};

struct ReportData {
    std::uint64_t records = 0;
    double first = 0, last = 0;  // ts_end of the first and last record
    double bucket_s = 1;         // width of one time bucket
    std::vector<double> bucket_starts;
    std::vector<ProcessSeries> processes;  // busiest first; the rest summed in the last ("other processes")
    std::uint64_t process_count = 0;       // distinct process names
    std::vector<ProcessDestinations> destinations;  // for the busiest processes
    std::vector<AlertLine> alerts;                  // by time
    std::vector<std::pair<std::string, std::uint64_t>> alerts_by_rule;  // most first
    std::optional<ScoreHistogram> scores;
};

struct ReportLimits {
    std::size_t max_buckets = 120;
    std::size_t series = 8;           // processes drawn apart; the rest are "other processes"
    std::size_t destination_processes = 6;
    std::size_t destinations_each = 5;
    std::size_t score_bins = 60;
};

// The bucket width (1 s, 5 s, ... 1 day) that cuts span_s into at most
// max_buckets buckets.
double bucket_width(double span_s, std::size_t max_buckets);

// scores: each record's LOF score (same order as records), when a model
// scored them; threshold: the LOF threshold in use.
ReportData build_report_data(const std::vector<ConnectionRecord>& records, std::vector<AlertLine> alerts,
                             const std::vector<double>* scores, double threshold, const ReportLimits& limits = {});

}  // namespace netlof
