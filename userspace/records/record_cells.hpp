// A ConnectionRecord seen as the model's columns (RecordCells), so the daemon
// scores records without writing and parsing CSV. Number columns get their
// text too, written exactly as the CSV writer writes them: a pipeline may
// one-hot encode dst_port, and a model learned from CSV must see "443" either way.
#pragma once

#include <array>

#include "model/connection_columns.hpp"
#include "userspace/records/connection_record.hpp"

namespace netlof {

class RecordCellsBuilder {
public:
    // The cells of r; valid until the next fill() and while r lives. No allocation.
    const RecordCells& fill(const ConnectionRecord& r);

private:
    RecordCells cells_;
    std::array<std::array<char, kIpTextMax>, kConnectionColumnCount> text_{};  // numbers and addresses as text
};

}  // namespace netlof
