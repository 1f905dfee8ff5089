// ConnectionRecords back from a records file, as `netlof record` and the
// daemon's record log write them (JSON lines or CSV), or the notebook's CSV
// (a `timestamp` and a `duration` instead of ts_start and ts_end).
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "model/connection_columns.hpp"
#include "common/text_table.hpp"
#include "userspace/records/connection_record.hpp"

namespace netlof {

class RecordReader {
public:
    // Finds the columns; throws InputError naming one that is required
    // (process_name, dst_ip, dst_port, and ts_end or timestamp) and missing.
    explicit RecordReader(const TextTable& table);
    // Row `row` into r (its strings keep their buffers). A cell that is not a
    // number where one is needed throws InputError with its line and field.
    void read(std::size_t row, ConnectionRecord& r) const;

private:
    double number(std::size_t row, std::string_view column) const;
    // Throws InputError with the line and field when the cell is not an
    // address (or is empty and required).
    IpAddress address(std::size_t row, std::string_view column, bool required) const;
    const std::optional<std::size_t>& col(std::string_view column) const { return cols_[*connection_column_id(column)]; }

    const TextTable& t_;
    std::array<std::optional<std::size_t>, kConnectionColumnCount> cols_;  // by connection column id
};

}  // namespace netlof
