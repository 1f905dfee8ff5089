// The report as one self-contained HTML page: inline CSS and SVG plots, no
// script and nothing fetched, so it opens anywhere (a mail attachment, an
// air-gapped host). No I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "userspace/report/report_data.hpp"

namespace netlof {

// What the model learned, as the report's learning summary shows it.
struct LearningSummary {
    std::string model_file;
    std::uint64_t training_rows = 0;
    std::size_t neighbors = 0;
    double reach_floor = 0;
    std::string pipeline_file;
    std::vector<std::string> features;  // "log1p(bytes_sent)", "proto (2 categories)"
    double learned_rate_per_s = 0;      // 0: unknown
    std::size_t learned_programs = 0;   // process names with learned executables
    double threshold = 0;
    std::string threshold_note;
};

struct ReportSources {
    std::string records_file;
    std::string alerts_file;  // empty: none given
    std::string host;
    std::string version;
    double generated_at = 0;  // unix seconds
};

std::string render_report_html(const ReportData& data, const std::optional<LearningSummary>& learning,
                                const ReportSources& sources);

}  // namespace netlof
