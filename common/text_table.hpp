// An in-memory CSV table (RFC 4180: commas, double quotes, CRLF or LF) parsed
// from text. Cells are views into the text, so parsing 100k rows makes no
// per-cell allocation; only quoted cells with doubled quotes are copied.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netlof {

class TextTable {
public:
    // Throws InputError (file, line, column) for an empty file, a bad header,
    // a row with the wrong number of fields or an unterminated quote.
    static TextTable parse(std::string text, std::string file);
    // The same table from JSON lines, one flat object a line, as `netlof
    // record` writes them: columns are the keys in first-seen order, a key a
    // line lacks is an empty cell. Throws InputError (file, line, field) for
    // a line that is not an object or a value that is not a string or number.
    static TextTable parse_jsonl(std::string text, std::string file);
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

    std::string_view cell(std::size_t row, std::size_t col) const { return cells_[row * columns_.size() + col]; }
    // The cell as a finite double; throws InputError naming line, column and field.
    double number(std::size_t row, std::size_t col) const;
    std::size_t line_of(std::size_t row) const { return row_line_[row]; }
    // Throws InputError for this cell with the given message.
    [[noreturn]] void fail(std::size_t row, std::size_t col, const std::string& message) const;

private:
    TextTable() = default;
    std::string_view line_text(std::size_t line_start) const;

    std::string text_;
    std::string file_;
    std::vector<std::string> columns_;
    std::vector<std::string_view> cells_;     // rows * columns
    std::vector<std::size_t> cell_offset_;    // byte offset of each cell in text_
    std::vector<std::size_t> row_line_;       // 1-based line of each row
    std::vector<std::size_t> row_start_;      // byte offset of each row's line
    std::deque<std::string> unescaped_;       // storage for cells with "" escapes
};

// Appends one CSV field to out, quoted when it holds a comma, quote or newline.
void append_csv_field(std::string& out, std::string_view field);
// Shortest text that parses back to exactly the same double.
void append_double(std::string& out, double v);

}  // namespace netlof
