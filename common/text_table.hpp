// An in-memory CSV table (RFC 4180: commas, double quotes, CRLF or LF) parsed
// from text. Cells are where they are written in the text, 8 bytes each
// (offset in their row, size), so parsing a million rows makes no per-cell
// allocation; only cells that must be unescaped (a CSV "" or a JSON \ escape)
// are copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netlof {

class TextTable {
public:
    // Throws InputError (file, line, column) for an empty file, a bad header,
    // a row with the wrong number of fields or an unterminated quote.
    // body_line > 0: the text is a header and a later part of its file, whose
    // first line after the header is that line of the file (TableChunks).
    static TextTable parse(std::string text, std::string file, std::size_t body_line = 0);
    // The same table from JSON lines, one flat object a line, as `netlof
    // record` writes them: columns are the keys in first-seen order, a key a
    // line lacks is an empty cell. Throws InputError (file, line, field) for
    // a line that is not an object or a value that is not a string or number.
    // The text's first line is line first_line of its file.
    static TextTable parse_jsonl(std::string text, std::string file, std::size_t first_line = 1);
    // parse_jsonl when the first non-blank byte is '{', else parse.
    static TextTable parse_records(std::string text, std::string file);

    TextTable(const TextTable&) = delete;  // cells point into text_
    TextTable& operator=(const TextTable&) = delete;
    TextTable(TextTable&&) = default;
    TextTable& operator=(TextTable&&) = default;

    const std::string& file() const { return file_; }
    const std::vector<std::string>& columns() const { return columns_; }
    std::size_t rows() const { return row_line_.size(); }
    std::optional<std::size_t> column_index(std::string_view name) const;
    // Index of a column the caller needs; throws InputError naming the header.
    std::size_t require_column(std::string_view name, std::string_view needed_by) const;

    std::string_view cell(std::size_t row, std::size_t col) const {
        const Cell c = cells_[row * columns_.size() + col];
        if (c.size & kCopied) [[unlikely]]
            return copies_[c.offset].text;
        return std::string_view(text_.data() + row_start_[row] + c.offset, c.size);
    }
    // The cell as a finite double; throws InputError naming line, column and field.
    double number(std::size_t row, std::size_t col) const;
    std::size_t line_of(std::size_t row) const { return row_line_[row]; }
    // Throws InputError for this cell with the given message.
    [[noreturn]] void fail(std::size_t row, std::size_t col, const std::string& message) const;
    // The same for a column this table lacks (a part of a JSON-lines file
    // none of whose records has the key), at the row's line.
    [[noreturn]] void fail_absent(std::size_t row, std::string_view column, const std::string& message) const;

private:
    // A cell's bytes are text_[row_start_[row] + offset], size of them; with
    // kCopied set in size, offset indexes copies_ instead.
    struct Cell {
        std::uint32_t offset;
        std::uint32_t size;
    };
    static constexpr std::uint32_t kCopied = 0x80000000u;
    struct Copy {
        std::string text;         // the cell's value, unescaped
        std::uint32_t raw_offset; // where it is written in its row
    };

    TextTable() = default;
    std::string_view line_text(std::size_t line_start) const;
    // The cell for text_[value_start, value_start + size) in the row starting at row_start;
    // throws InputError when a row is too long to address (2 GiB).
    Cell cell_at(std::size_t row_start, std::size_t value_start, std::size_t size, std::size_t line) const;
    Cell copied(std::string text, std::size_t row_start, std::size_t raw_start);

    std::string text_;
    std::string file_;
    std::vector<std::string> columns_;
    std::vector<Cell> cells_;            // rows * columns
    std::vector<std::size_t> row_line_;  // 1-based line of each row
    std::vector<std::size_t> row_start_; // byte offset of each row's line
    std::vector<Copy> copies_;           // cells that had to be unescaped
};

// Appends one CSV field to out, quoted when it holds a comma, quote or newline.
void append_csv_field(std::string& out, std::string_view field);
// Shortest text that parses back to exactly the same double.
void append_double(std::string& out, double v);

}  // namespace netlof
