// A records file (CSV or JSON lines) read a part at a time, so a file of any
// size is read in bounded memory: each part is a TextTable of whole records,
// about chunk_bytes of text, whose line numbers are the file's. A CSV part
// carries the file's header, so it reads as the whole file would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/text_table.hpp"

namespace netlof {

class TableChunks {
public:
    // "-" reads standard input. Throws InputError when the file cannot be read.
    explicit TableChunks(std::string path, std::size_t chunk_bytes = std::size_t{16} << 20);
    ~TableChunks();
    TableChunks(const TableChunks&) = delete;
    TableChunks& operator=(const TableChunks&) = delete;

    // The next part, or nullopt after the last. Throws InputError for bad
    // records, naming the file's line.
    std::optional<TextTable> next();
    bool jsonl() const { return jsonl_; }
    std::uint64_t bytes_read() const { return bytes_read_; }
    std::uint64_t file_size() const { return file_size_; }  // 0 when not known (a pipe)

private:
    bool fill();  // reads more; false at the end of the file

    std::string path_;
    std::size_t chunk_bytes_;
    int fd_ = -1;
    std::string pending_;     // read, not yet handed out
    std::string header_;      // a CSV file's header line, with its newline
    bool started_ = false, jsonl_ = false, eof_ = false, handed_out_ = false;
    std::size_t lines_done_ = 0;  // lines of the file handed out so far
    std::uint64_t bytes_read_ = 0, file_size_ = 0;
};

}  // namespace netlof
