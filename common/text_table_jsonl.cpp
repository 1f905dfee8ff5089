// TextTable::parse_jsonl: records from `netlof record` (JSON lines) read into
// the same table the CSV path gives, so train and score take either.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/text_table.hpp"
#include "common/diagnostic.hpp"

namespace netlof {

TextTable TextTable::parse_jsonl(std::string text, std::string file) {
    TextTable t;
    t.text_ = std::move(text);
    t.file_ = std::move(file);
    const std::string& s = t.text_;

    auto fail_line = [&](std::size_t line, std::size_t start, std::size_t column, std::string field, std::string message) {
        Diagnostic d;
        d.file = t.file_;
        d.line = line;
        d.column = column;
        d.field = std::move(field);
        d.message = std::move(message);
        d.source_line = std::string(t.line_text(start));
        throw InputError(std::move(d));
    };

    struct Row {
        std::size_t line, start;
        std::vector<std::pair<std::size_t, std::size_t>> cells;  // (column, index into unescaped_)
        std::vector<std::size_t> offsets;
    };
    std::vector<Row> rows;
    std::size_t line = 0;
    for (std::size_t pos = 0; pos < s.size();) {
        ++line;
        std::size_t end = s.find('\n', pos);
        if (end == std::string::npos) end = s.size();
        const std::size_t start = pos;
        std::string_view text_line = std::string_view(s).substr(start, end - start);
        pos = end + 1;
        if (text_line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
        // The parser keeps the last of repeated keys; the callback sees them all.
        std::vector<std::string> keys;
        std::string duplicate;
        auto on_event = [&](int depth, nlohmann::ordered_json::parse_event_t ev, nlohmann::ordered_json& v) {
            if (depth == 1 && ev == nlohmann::ordered_json::parse_event_t::key && duplicate.empty()) {
                const std::string& k = v.get_ref<const std::string&>();
                if (std::find(keys.begin(), keys.end(), k) != keys.end()) duplicate = k;
                else keys.push_back(k);
            }
            return true;
        };
        nlohmann::ordered_json j = nlohmann::ordered_json::parse(text_line, on_event, false);
        if (j.is_discarded()) fail_line(line, start, 0, "", "not a JSON value");
        if (!duplicate.empty()) fail_line(line, start, 0, duplicate, "duplicate key");
        if (!j.is_object()) fail_line(line, start, 0, "", "expected one JSON object a line");
        Row row{line, start, {}, {}};
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& key = it.key();
            // Where the key is written, for the diagnostic's column.
            std::string quoted = nlohmann::json(key).dump();
            std::size_t at = text_line.find(quoted);
            const std::size_t offset = start + (at == std::string_view::npos ? 0 : at);
            std::size_t col = 0;
            while (col < t.columns_.size() && t.columns_[col] != key) ++col;
            if (col == t.columns_.size()) {
                if (key.empty()) fail_line(line, start, offset - start + 1, "", "empty key");
                t.columns_.push_back(key);
            }
            if (it->is_string()) t.unescaped_.push_back(it->get<std::string>());
            else if (it->is_number()) t.unescaped_.push_back(it->dump());
            else if (it->is_null()) t.unescaped_.emplace_back();  // a value not known: an empty cell
            else fail_line(line, start, offset - start + 1, key, std::string("expected a string or a number, found ") + it->type_name());
            row.cells.emplace_back(col, t.unescaped_.size() - 1);
            row.offsets.push_back(offset);
        }
        rows.push_back(std::move(row));
    }
    if (t.columns_.empty()) {
        Diagnostic d;
        d.file = t.file_;
        d.message = "no records (empty file)";
        throw InputError(std::move(d));
    }
    // Cells missing from a row stay empty; they point at the row's start.
    const std::size_t ncol = t.columns_.size();
    static const std::string_view kEmpty;
    t.cells_.assign(rows.size() * ncol, kEmpty);
    t.cell_offset_.assign(rows.size() * ncol, 0);
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t c = 0; c < ncol; ++c) t.cell_offset_[r * ncol + c] = rows[r].start;
        for (std::size_t i = 0; i < rows[r].cells.size(); ++i) {
            const auto [c, u] = rows[r].cells[i];
            t.cells_[r * ncol + c] = t.unescaped_[u];
            t.cell_offset_[r * ncol + c] = rows[r].offsets[i];
        }
        t.row_line_.push_back(rows[r].line);
        t.row_start_.push_back(rows[r].start);
    }
    return t;
}

TextTable TextTable::parse_records(std::string text, std::string file) {
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{') return parse_jsonl(std::move(text), std::move(file));
    return parse(std::move(text), std::move(file));
}

}  // namespace netlof
