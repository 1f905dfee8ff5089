// A records file (CSV or JSON lines) read a part at a time, so a file of any
// size is read in bounded memory: each part is a TextTable of whole records,
// about chunk_bytes of text, whose line numbers are the file's. A CSV part
// carries the file's header, so it reads as the whole file would. While a
// part is parsed the next one is parsed on another thread (two parts' text
// are held at a time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <future>
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
    // A part's text, cut at a record's end and numbered, not yet parsed.
    struct Cut {
        std::string text;
        std::size_t first_line;
        enum Kind { Whole, Jsonl, CsvFirst, CsvLater } kind;
    };
    bool fill();  // reads more; false at the end of the file
    std::optional<Cut> take();
    TextTable parse(Cut cut) const;  // on either thread: reads only path_

    std::string path_;
    std::size_t chunk_bytes_;
    int fd_ = -1;
    std::string pending_;     // read, not yet handed out
    std::string header_;      // a CSV file's header line, with its newline
    bool started_ = false, jsonl_ = false, eof_ = false, handed_out_ = false;
    std::size_t lines_done_ = 0;  // lines of the file handed out so far
    std::uint64_t bytes_read_ = 0, file_size_ = 0;
    // The next part, parsed beside the one handed out before it. Last, so
    // it is destroyed (waited for) first.
    std::future<std::optional<TextTable>> ahead_;
};

}  // namespace netlof
