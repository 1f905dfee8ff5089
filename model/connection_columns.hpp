// The columns a connection record has, in CSV order. The first ten are the
// notebook's (and `netlof train`'s input); pipelines may only name these, so a
// typo in a pipeline file is caught when it is read, not when it is trained.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace netlof {

enum class ColumnKind { Number, Text, Time };

struct ColumnInfo {
    std::string_view name;
    ColumnKind kind;
};

inline constexpr ColumnInfo kConnectionColumns[] = {
    {"pid", ColumnKind::Number},          {"process_name", ColumnKind::Text},
    {"src_ip", ColumnKind::Text},         {"src_port", ColumnKind::Number},
    {"dst_ip", ColumnKind::Text},         {"dst_port", ColumnKind::Number},
    {"duration", ColumnKind::Number},     {"bytes_sent", ColumnKind::Number},
    {"bytes_received", ColumnKind::Number}, {"timestamp", ColumnKind::Time},
    // Recorded by the sensor beyond the notebook's columns.
    {"ppid", ColumnKind::Number},         {"uid", ColumnKind::Number},
    {"exe", ColumnKind::Text},            {"cgroup_id", ColumnKind::Number},
    {"family", ColumnKind::Number},       {"proto", ColumnKind::Text},
    {"outcome", ColumnKind::Text},        {"ts_start", ColumnKind::Number},
    {"ts_end", ColumnKind::Number},       {"unit", ColumnKind::Text},
    {"container_id", ColumnKind::Text},
};

inline constexpr std::size_t kConnectionColumnCount = std::size(kConnectionColumns);

inline const ColumnInfo* find_connection_column(std::string_view name) {
    for (const ColumnInfo& c : kConnectionColumns)
        if (c.name == name) return &c;
    return nullptr;
}

// Position of a column in kConnectionColumns.
constexpr std::optional<std::size_t> connection_column_id(std::string_view name) {
    for (std::size_t i = 0; i < kConnectionColumnCount; ++i)
        if (kConnectionColumns[i].name == name) return i;
    return std::nullopt;
}

// One record's cells by column id, for records that do not come from a CSV
// (the daemon's): numbers for Number columns, text for Text columns. The
// views point into the caller's record and must outlive the use.
struct RecordCells {
    std::array<double, kConnectionColumnCount> number{};
    std::array<std::string_view, kConnectionColumnCount> text{};
};

}  // namespace netlof
