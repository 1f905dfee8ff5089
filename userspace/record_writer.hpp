// Where ConnectionRecords go: JSON lines or CSV. The CSV starts with the
// columns of `netlof train`'s input, so recorded traffic trains a model as is.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "userspace/connection_record.hpp"

namespace netlof {

class RecordWriter {
public:
    virtual ~RecordWriter() = default;
    virtual void write(const ConnectionRecord& r) = 0;
    // Flushes to the file; false when writing failed (disk full, ...).
    virtual bool flush() = 0;
};

enum class RecordFormat { Jsonl, Csv };

// Opens path ("-" for stdout) for writing; throws InputError when it cannot.
std::unique_ptr<RecordWriter> open_record_writer(const std::string& path, RecordFormat format);

std::string record_to_json(const ConnectionRecord& r);
std::string record_csv_header();
std::string record_to_csv(const ConnectionRecord& r);

}  // namespace netlof
