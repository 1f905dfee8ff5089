// The columns a connection record has, in CSV order. The first ten are the
// notebook's (and `netlof train`'s input); pipelines may only name these, so a
// typo in a pipeline file is caught when it is read, not when it is trained.
#pragma once

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
    {"ts_end", ColumnKind::Number},
};

inline const ColumnInfo* find_connection_column(std::string_view name) {
    for (const ColumnInfo& c : kConnectionColumns)
        if (c.name == name) return &c;
    return nullptr;
}

}  // namespace netlof
