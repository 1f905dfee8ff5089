// Where ConnectionRecords go: JSON lines or CSV. The CSV starts with the
// columns of `netlof train`'s input, so recorded traffic trains a model as is.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "userspace/records/connection_record.hpp"

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

// One record as a JSON line or CSV row, appended to out (newline included).
void append_record_json(std::string& out, const ConnectionRecord& r);
void append_record_csv(std::string& out, const ConnectionRecord& r);
std::string record_csv_header();

}  // namespace netlof
