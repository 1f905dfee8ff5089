#include "common/json_line.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace netlof {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid.
std::size_t utf8_length(std::string_view s, std::size_t i) {
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = b(i);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07;
    else return 0;
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(i + k) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

// Whether any of the 8 bytes in v is a control character, '"', '\\' or not
// ASCII: the bytes write_json_string cannot copy as they are. The classic
// has-a-zero-byte tests: exact about whether there is one, not where.
bool needs_escape_or_utf8(std::uint64_t v) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    const auto has_zero_byte = [](std::uint64_t x) { return ((x - ones) & ~x & high) != 0; };
    const bool below_space = ((v - 0x20 * ones) & ~v & high) != 0;
    return (v & high) != 0 || below_space || has_zero_byte(v ^ ('"' * ones)) || has_zero_byte(v ^ ('\\' * ones));
}

}  // namespace

char* write_json_string(char* p, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    *p++ = '"';
    for (std::size_t i = 0; i < s.size();) {
        // Runs of printable ASCII, the common case, are copied in one go,
        // found 8 bytes at a time (a record line has ~70 bytes of strings).
        std::size_t j = i;
        for (std::uint64_t v; j + 8 <= s.size(); j += 8) {
            std::memcpy(&v, s.data() + j, 8);
            if (needs_escape_or_utf8(v)) break;
        }
        while (j < s.size()) {
            const unsigned char c = static_cast<unsigned char>(s[j]);
            if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') break;
            ++j;
        }
        std::memcpy(p, s.data() + i, j - i);
        p += j - i;
        i = j;
        if (i == s.size()) break;
        const unsigned char c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = static_cast<char>(c);
            ++i;
        } else if (c < 0x20) {
            std::memcpy(p, "\\u00", 4);
            p[4] = kHex[c >> 4];
            p[5] = kHex[c & 0xF];
            p += 6;
            ++i;
        } else if (const std::size_t n = utf8_length(s, i); n > 0) {
            std::memcpy(p, s.data() + i, n);
            p += n;
            i += n;
        } else {
            std::memcpy(p, "\\ufffd", 6);
            p += 6;
            ++i;
        }
    }
    *p++ = '"';
    return p;
}

void append_json_string(std::string& out, std::string_view s) {
    const std::size_t n = out.size();
    out.resize(n + 6 * s.size() + 2);
    out.resize(static_cast<std::size_t>(write_json_string(out.data() + n, s) - out.data()));
}

char* JsonLine::room(std::size_t n) {
    // Grown ahead by at least 1 KiB so a line is a few resizes, not one per field.
    if (len_ + n > out_.size()) out_.resize(std::max(len_ + n, out_.size() + 1024));
    return out_.data() + len_;
}

char* JsonLine::key(std::string_view k, std::size_t value_max) {
    // Keys are names in netlof's code, plain ASCII: no escaping needed.
    char* p = room(k.size() + 4 + value_max);
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    std::memcpy(p, k.data(), k.size());
    p += k.size();
    *p++ = '"';
    *p++ = ':';
    return p;
}

JsonLine& JsonLine::field(std::string_view k, std::string_view value) {
    char* p = key(k, 6 * value.size() + 2);
    len_ = static_cast<std::size_t>(write_json_string(p, value) - out_.data());
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, std::uint64_t value) {
    char* p = key(k, 24);
    len_ = static_cast<std::size_t>(std::to_chars(p, p + 24, value).ptr - out_.data());
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, std::int64_t value) {
    char* p = key(k, 24);
    len_ = static_cast<std::size_t>(std::to_chars(p, p + 24, value).ptr - out_.data());
    return *this;
}

JsonLine& JsonLine::field(std::string_view k, double value) {
    char* p = key(k, 32);
    if (!std::isfinite(value)) {
        std::memcpy(p, "null", 4);
        len_ = static_cast<std::size_t>(p + 4 - out_.data());
        return *this;
    }
    len_ = static_cast<std::size_t>(std::to_chars(p, p + 32, value).ptr - out_.data());
    return *this;
}

JsonLine& JsonLine::raw(std::string_view k, std::string_view json) {
    char* p = key(k, json.size());
    std::memcpy(p, json.data(), json.size());
    len_ = static_cast<std::size_t>(p + json.size() - out_.data());
    return *this;
}

void JsonLine::end() {
    char* p = room(2);
    p[0] = '}';
    p[1] = '\n';
    len_ += 2;
    out_.resize(len_);
    ended_ = true;
}

}  // namespace netlof
