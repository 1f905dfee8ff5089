// TextTable::parse_jsonl: records from `netlof record` (JSON lines) read into
// the same table the CSV path gives, so train and score take either.
//
// Each line is one flat object of strings, numbers and nulls, read in place:
// a cell is where its value is written (a number as written, a string between
// its quotes), and only a string with a backslash escape is copied. A JSON
// document per line cost about 1.5 KB a record and most of a fleet-sized
// training's time; this reader is hand-written for that hot path, and it is
// strict: anything that is not JSON is refused as nlohmann::json refuses it.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/text_table.hpp"
#include "common/diagnostic.hpp"

namespace netlof {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// The length of the UTF-8 sequence at p (1 to 4), or 0 when it is not one.
std::size_t utf8_length(const unsigned char* p, const unsigned char* end) {
    const unsigned char c = p[0];
    if (c < 0x80) return 1;
    auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
        return p + i < end && p[i] >= lo && p[i] <= hi;
    };
    if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
    if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
    if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
    if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;
    if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
    if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
    return 0;
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

// Reads one line's object. Every method returns false where the text is not JSON.
class FlatObject {
public:
    explicit FlatObject(std::string_view line) : s_(line) {}

    std::size_t pos() const { return pos_; }
    void skip_space() {
        while (pos_ < s_.size() && is_space(s_[pos_])) ++pos_;
    }
    bool at(char c) const { return pos_ < s_.size() && s_[pos_] == c; }
    bool take(char c) {
        if (!at(c)) return false;
        ++pos_;
        return true;
    }
    bool at_end() const { return pos_ == s_.size(); }

    // A string at pos_ (its opening quote): [begin, end) is what is between the
    // quotes; `escaped` when it held a backslash escape, its value then in `out`.
    bool string(std::size_t& begin, std::size_t& end, bool& escaped, std::string& out) {
        if (!take('"')) return false;
        begin = pos_;
        escaped = false;
        const auto* base = reinterpret_cast<const unsigned char*>(s_.data());
        const auto* stop = base + s_.size();
        while (pos_ < s_.size()) {
            // Plain ASCII, the whole of most strings, without a call per byte.
            if (!escaped)
                while (pos_ < s_.size() && base[pos_] >= 0x20 && base[pos_] < 0x80 && base[pos_] != '"' &&
                       base[pos_] != '\\')
                    ++pos_;
            if (pos_ == s_.size()) break;
            const unsigned char c = base[pos_];
            if (c == '"') {
                end = pos_++;
                return true;
            }
            if (c < 0x20) return false;  // control characters must be escaped
            if (c == '\\') {
                if (!escaped) out.assign(s_.substr(begin, pos_ - begin));
                escaped = true;
                if (!escape(out)) return false;
                continue;
            }
            const std::size_t n = utf8_length(base + pos_, stop);
            if (n == 0) return false;
            if (escaped) out.append(s_.substr(pos_, n));
            pos_ += n;
        }
        return false;  // unterminated
    }

    // A number at pos_, by JSON's grammar.
    bool number() {
        const std::size_t start = pos_;
        take('-');
        if (take('0')) {
        } else if (digits() == 0) {
            return false;
        }
        if (take('.') && digits() == 0) return false;
        if (at('e') || at('E')) {
            ++pos_;
            if (!take('+')) take('-');
            if (digits() == 0) return false;
        }
        return pos_ > start;
    }

    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

private:
    std::size_t digits() {
        const std::size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        return pos_ - start;
    }
    bool hex4(std::uint32_t& v) {
        if (pos_ + 4 > s_.size()) return false;
        v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = s_[pos_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<std::uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<std::uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<std::uint32_t>(c - 'A' + 10);
            else return false;
        }
        return true;
    }
    // The escape at pos_ (its backslash), unescaped onto out.
    bool escape(std::string& out) {
        ++pos_;
        if (pos_ >= s_.size()) return false;
        const char c = s_[pos_++];
        switch (c) {
            case '"': out += '"'; return true;
            case '\\': out += '\\'; return true;
            case '/': out += '/'; return true;
            case 'b': out += '\b'; return true;
            case 'f': out += '\f'; return true;
            case 'n': out += '\n'; return true;
            case 'r': out += '\r'; return true;
            case 't': out += '\t'; return true;
            case 'u': break;
            default: return false;
        }
        std::uint32_t cp = 0;
        if (!hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
        if (cp >= 0xD800 && cp <= 0xDBFF) {                // a high one needs its low one
            std::uint32_t low = 0;
            if (!literal("\\u") || !hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        append_utf8(out, cp);
        return true;
    }

    std::string_view s_;
    std::size_t pos_ = 0;
};

}  // namespace

TextTable TextTable::parse_jsonl(std::string text, std::string file, std::size_t first_line) {
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
    // A line with a problem of shape (a duplicate key, a value of the wrong
    // type) is reported as that only when it is JSON at all.
    auto fail_shape = [&](std::size_t line, std::size_t start, std::string_view text_line, std::size_t column,
                          std::string field, std::string message) {
        if (!nlohmann::json::accept(text_line)) fail_line(line, start, 0, "", "not a JSON value");
        fail_line(line, start, column, std::move(field), std::move(message));
    };

    std::vector<std::size_t> set_in_row;  // per column: the row (+1) that last set it, for duplicates
    std::vector<std::size_t> column_of_key;  // the column of each key of the line before, by its place
    std::string key, value;
    std::size_t line = first_line - 1;
    for (std::size_t pos = 0; pos < s.size();) {
        ++line;
        std::size_t end = s.find('\n', pos);
        if (end == std::string::npos) end = s.size();
        const std::size_t start = pos;
        const std::string_view text_line = std::string_view(s).substr(start, end - start);
        pos = end + 1;
        if (text_line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank
        const std::size_t row = t.row_line_.size();

        FlatObject o(text_line);
        o.skip_space();
        if (!o.take('{')) {
            if (nlohmann::json::accept(text_line)) fail_line(line, start, 0, "", "expected one JSON object a line");
            fail_line(line, start, 0, "", "not a JSON value");
        }
        t.cells_.resize(t.cells_.size() + t.columns_.size(), Cell{0, 0});  // a key a line lacks is an empty cell
        o.skip_space();
        bool first = true;
        for (std::size_t key_index = 0; !(first && o.take('}')); ++key_index) {
            first = false;
            o.skip_space();
            const std::size_t key_at = o.pos();
            std::size_t kb = 0, ke = 0, vb = 0, ve = 0;
            bool key_escaped = false, value_escaped = false;
            key.clear();
            if (!o.string(kb, ke, key_escaped, key)) fail_line(line, start, 0, "", "not a JSON value");
            const std::string_view name = key_escaped ? std::string_view(key) : text_line.substr(kb, ke - kb);
            o.skip_space();
            if (!o.take(':')) fail_line(line, start, 0, "", "not a JSON value");
            o.skip_space();
            if (name.empty()) fail_shape(line, start, text_line, key_at + 1, "", "empty key");

            // Its column: the same as the key in this place on the line before,
            // usually (records write their keys in one order); else looked up.
            std::size_t col = key_index < column_of_key.size() ? column_of_key[key_index] : t.columns_.size();
            if (col >= t.columns_.size() || t.columns_[col] != name)
                for (col = 0; col < t.columns_.size() && t.columns_[col] != name;) ++col;
            if (key_index >= column_of_key.size()) column_of_key.resize(key_index + 1);
            column_of_key[key_index] = col;
            if (col == t.columns_.size()) {
                // A new column: every row so far gets it, empty.
                const std::size_t old = t.columns_.size();
                t.columns_.emplace_back(name);
                std::vector<Cell> wider((row + 1) * (old + 1), Cell{0, 0});
                for (std::size_t r = 0; r <= row; ++r)
                    std::copy_n(t.cells_.begin() + static_cast<std::ptrdiff_t>(r * old), old,
                                wider.begin() + static_cast<std::ptrdiff_t>(r * (old + 1)));
                t.cells_.swap(wider);
                set_in_row.push_back(0);
            }
            if (set_in_row[col] == row + 1) fail_shape(line, start, text_line, key_at + 1, std::string(name), "duplicate key");
            set_in_row[col] = row + 1;

            Cell& cell = t.cells_[row * t.columns_.size() + col];
            const std::size_t value_at = o.pos();
            value.clear();
            if (o.at('"')) {
                if (!o.string(vb, ve, value_escaped, value)) fail_line(line, start, 0, "", "not a JSON value");
                cell = value_escaped ? t.copied(value, 0, vb - 1) : t.cell_at(0, vb, ve - vb, line);
            } else if (o.at('-') || (o.pos() < text_line.size() && text_line[o.pos()] >= '0' && text_line[o.pos()] <= '9')) {
                if (!o.number()) fail_line(line, start, 0, "", "not a JSON value");
                cell = t.cell_at(0, value_at, o.pos() - value_at, line);
            } else if (o.literal("null")) {
                cell = t.cell_at(0, value_at, 0, line);  // a value not known: an empty cell
            } else {
                const char c = o.pos() < text_line.size() ? text_line[o.pos()] : '\0';
                const char* type = c == '{' ? "object" : c == '[' ? "array" : c == 't' || c == 'f' ? "boolean" : nullptr;
                if (type == nullptr) fail_line(line, start, 0, "", "not a JSON value");
                fail_shape(line, start, text_line, key_at + 1, std::string(name),
                           std::string("expected a string or a number, found ") + type);
            }
            o.skip_space();
            if (o.take(',')) continue;
            if (!o.take('}')) fail_line(line, start, 0, "", "not a JSON value");
            break;
        }
        o.skip_space();
        if (!o.at_end()) fail_line(line, start, 0, "", "not a JSON value");
        t.row_line_.push_back(line);
        t.row_start_.push_back(start);
    }
    if (t.columns_.empty()) {
        Diagnostic d;
        d.file = t.file_;
        d.message = "no records (empty file)";
        throw InputError(std::move(d));
    }
    return t;
}

TextTable TextTable::parse_records(std::string text, std::string file) {
    const std::size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string::npos && text[first] == '{') return parse_jsonl(std::move(text), std::move(file));
    return parse(std::move(text), std::move(file));
}

}  // namespace netlof
