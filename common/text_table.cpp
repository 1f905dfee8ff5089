#include "common/text_table.hpp"

#include <charconv>
#include <cmath>
#include <fast_float/fast_float.h>
#include <unordered_set>

#include "common/diagnostic.hpp"

namespace netlof {

namespace {

struct Field {
    std::string_view value;
    std::size_t offset;  // start of the raw field in the text
    bool needs_copy;     // quoted with "" escapes: value must be unescaped
};

}  // namespace

std::string_view TextTable::line_text(std::size_t start) const {
    std::size_t end = text_.find('\n', start);
    if (end == std::string::npos) end = text_.size();
    if (end > start && text_[end - 1] == '\r') --end;
    return std::string_view(text_).substr(start, end - start);
}

TextTable TextTable::parse(std::string text, std::string file, std::size_t body_line) {
    TextTable t;
    t.text_ = std::move(text);
    t.file_ = std::move(file);
    const std::string& s = t.text_;
    const std::size_t n = s.size();

    auto error_at = [&](std::size_t line, std::size_t line_start, std::size_t offset, std::string field,
                        std::string message) -> InputError {
        Diagnostic d;
        d.file = t.file_;
        d.line = line;
        d.column = offset >= line_start ? offset - line_start + 1 : 0;
        d.field = std::move(field);
        d.message = std::move(message);
        d.source_line = std::string(t.line_text(line_start));
        return InputError(std::move(d));
    };

    std::size_t pos = 0, line = 1;
    std::vector<Field> fields;
    // Reads one record starting at pos; returns false at end of input.
    // Blank lines are skipped (line counting continues).
    auto read_record = [&](std::size_t& rec_line, std::size_t& rec_start) -> bool {
        while (pos < n && (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < n && s[pos + 1] == '\n'))) {
            pos += s[pos] == '\r' ? 2 : 1;
            ++line;
        }
        if (pos >= n) return false;
        fields.clear();
        rec_line = line;
        rec_start = pos;
        for (;;) {
            Field f{{}, pos, false};
            if (pos < n && s[pos] == '"') {
                std::size_t q = pos + 1, begin = q;
                for (;;) {
                    if (q >= n)
                        throw error_at(rec_line, rec_start, f.offset, "",
                                       "unterminated quoted field");
                    if (s[q] == '"') {
                        if (q + 1 < n && s[q + 1] == '"') {
                            f.needs_copy = true;
                            q += 2;
                            continue;
                        }
                        break;
                    }
                    if (s[q] == '\n') ++line;  // quoted newline
                    ++q;
                }
                f.value = std::string_view(s).substr(begin, q - begin);
                pos = q + 1;
                if (pos < n && s[pos] != ',' && s[pos] != '\n' && s[pos] != '\r')
                    throw error_at(rec_line, rec_start, pos, "", "unexpected character after closing quote");
            } else {
                std::size_t e = pos;
                while (e < n && s[e] != ',' && s[e] != '\n' && s[e] != '\r') {
                    if (s[e] == '\0') throw error_at(rec_line, rec_start, e, "", "NUL byte in CSV (binary file?)");
                    ++e;
                }
                f.value = std::string_view(s).substr(pos, e - pos);
                pos = e;
            }
            fields.push_back(f);
            if (pos < n && s[pos] == ',') {
                ++pos;
                continue;
            }
            if (pos < n && s[pos] == '\r') {
                if (pos + 1 < n && s[pos + 1] == '\n') ++pos;
                else throw error_at(rec_line, rec_start, pos, "", "stray carriage return");
            }
            if (pos < n) {  // at '\n'
                ++pos;
                ++line;
            }
            return true;
        }
    };

    std::size_t header_line = 0, header_start = 0;
    if (!read_record(header_line, header_start)) {
        Diagnostic d;
        d.file = t.file_;
        d.message = "empty file: expected a CSV header line";
        throw InputError(std::move(d));
    }
    if (body_line > 0) line = body_line;
    std::unordered_set<std::string_view> seen;
    for (const Field& f : fields) {
        if (f.value.empty())
            throw error_at(header_line, header_start, f.offset, "", "empty column name in header");
        if (!seen.insert(f.value).second)
            throw error_at(header_line, header_start, f.offset, std::string(f.value), "duplicate column in header");
        t.columns_.emplace_back(f.value);
    }
    const std::size_t ncol = t.columns_.size();
    // A rough row estimate from the first data line keeps reallocation low.
    std::size_t rec_line = 0, rec_start = 0;
    while (read_record(rec_line, rec_start)) {
        if (fields.size() != ncol)
            throw error_at(rec_line, rec_start, fields.size() > ncol ? fields[ncol].offset : rec_start, "",
                           "expected " + std::to_string(ncol) + " fields (as in the header), found " +
                               std::to_string(fields.size()));
        if (t.row_line_.empty()) {
            const std::size_t est = n / std::max<std::size_t>(1, pos - rec_start) + 1;
            t.cells_.reserve(est * ncol);
            t.row_line_.reserve(est);
            t.row_start_.reserve(est);
        }
        for (const Field& f : fields) {
            if (f.needs_copy) {
                std::string u;
                u.reserve(f.value.size());
                for (std::size_t i = 0; i < f.value.size(); ++i) {
                    u.push_back(f.value[i]);
                    if (f.value[i] == '"') ++i;  // "" -> "
                }
                t.cells_.push_back(t.copied(std::move(u), rec_start, f.offset));
            } else {
                t.cells_.push_back(t.cell_at(rec_start, static_cast<std::size_t>(f.value.data() - s.data()), f.value.size(), rec_line));
            }
        }
        t.row_line_.push_back(rec_line);
        t.row_start_.push_back(rec_start);
    }
    return t;
}

TextTable::Cell TextTable::cell_at(std::size_t row_start, std::size_t value_start, std::size_t size,
                                   std::size_t line) const {
    const std::size_t offset = value_start - row_start;
    if (offset + size >= kCopied) {
        Diagnostic d;
        d.file = file_;
        d.line = line;
        d.message = "a row longer than 2 GiB";
        throw InputError(std::move(d));
    }
    return {static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(size)};
}

TextTable::Cell TextTable::copied(std::string text, std::size_t row_start, std::size_t raw_start) {
    copies_.push_back({std::move(text), static_cast<std::uint32_t>(std::min<std::size_t>(raw_start - row_start, kCopied))});
    return {static_cast<std::uint32_t>(copies_.size() - 1), kCopied};
}

std::optional<std::size_t> TextTable::column_index(std::string_view name) const {
    for (std::size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i] == name) return i;
    return std::nullopt;
}

std::size_t TextTable::require_column(std::string_view name, std::string_view needed_by) const {
    if (auto i = column_index(name)) return *i;
    Diagnostic d;
    d.file = file_;
    d.line = 1;
    d.field = std::string(name);
    d.message = "missing column (needed by " + std::string(needed_by) + ")";
    d.source_line = std::string(line_text(0));
    throw InputError(std::move(d));
}

void TextTable::fail(std::size_t row, std::size_t col, const std::string& message) const {
    Diagnostic d;
    d.file = file_;
    d.line = row_line_[row];
    const Cell c = cells_[row * columns_.size() + col];
    std::size_t offset = c.size & kCopied ? copies_[c.offset].raw_offset : c.offset;
    // A quoted cell is reported where its opening quote is.
    if (!(c.size & kCopied) && offset > 0 && text_[row_start_[row] + offset - 1] == '"') --offset;
    d.column = offset + 1;
    d.field = columns_[col];
    d.message = message;
    d.source_line = std::string(line_text(row_start_[row]));
    throw InputError(std::move(d));
}

void TextTable::fail_absent(std::size_t row, std::string_view column, const std::string& message) const {
    Diagnostic d;
    d.file = file_;
    d.line = row_line_[row];
    d.field = std::string(column);
    d.message = message;
    d.source_line = std::string(line_text(row_start_[row]));
    throw InputError(std::move(d));
}

double TextTable::number(std::size_t row, std::size_t col) const {
    std::string_view v = cell(row, col);
    if (v.empty()) fail(row, col, "empty value, expected a number");
    double out = 0;
    auto r = fast_float::from_chars(v.data(), v.data() + v.size(), out);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size())
        fail(row, col, "'" + std::string(v.substr(0, 40)) + "' is not a number");
    if (!std::isfinite(out)) fail(row, col, "'" + std::string(v.substr(0, 40)) + "' is not a finite number");
    return out;
}

void append_csv_field(std::string& out, std::string_view field) {
    // One pass over the bytes, no branch per byte (find_first_of calls memchr
    // on the four specials for every byte: most of a score's output time).
    bool special = false;
    for (const char c : field) special |= (c == ',') | (c == '"') | (c == '\n') | (c == '\r');
    if (!special) {
        out.append(field);
        return;
    }
    out.push_back('"');
    for (char c : field) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

void append_double(std::string& out, double v) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    out.append(buf, r.ptr);
}

}  // namespace netlof
