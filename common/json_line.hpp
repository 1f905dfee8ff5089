// Appends one JSON object to a reused buffer without building a document:
// alerts can come once per connection, and nlohmann::json's DOM cost ~40% of
// the sensor's CPU on the record path (it allocates per field); records
// themselves are written field by field in record_writer.cpp, with
// write_json_string below. Strings are
// escaped and invalid UTF-8 becomes U+FFFD, so every line parses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netlof {

// Keys must be plain ASCII names (they are written as they are); values are
// escaped. Text is written through a pointer into room grown ahead in out
// (each field reserves its worst case), not appended piece by piece: a
// record line has ~70 pieces, and the appends' checks were a third of the
// sensor's user-space CPU. end() (or the destructor, without end()) trims
// out to the text.
class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out), len_(out.size()) { *room(1) = '{'; ++len_; }
    ~JsonLine() {
        if (!ended_) out_.resize(len_);
    }
    JsonLine(const JsonLine&) = delete;
    JsonLine& operator=(const JsonLine&) = delete;
    JsonLine& field(std::string_view key, std::string_view value);
    JsonLine& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
    JsonLine& field(std::string_view key, std::uint64_t value);
    JsonLine& field(std::string_view key, std::int64_t value);
    JsonLine& field(std::string_view key, std::uint32_t value) { return field(key, std::uint64_t{value}); }
    JsonLine& field(std::string_view key, int value) { return field(key, std::int64_t{value}); }
    JsonLine& field(std::string_view key, std::uint16_t value) { return field(key, std::uint64_t{value}); }
    JsonLine& field(std::string_view key, double value);  // shortest round-trip form; non-finite -> null
    JsonLine& raw(std::string_view key, std::string_view json);  // value already JSON
    void end();

private:
    char* room(std::size_t n);                       // at least n writable bytes at the end of the text
    char* key(std::string_view k, std::size_t value_max);  // writes `,"k":`, room for the value after it
    std::string& out_;
    std::size_t len_;  // the text's length; out_ may be longer until trimmed
    bool first_ = true;
    bool ended_ = false;
};

// Writes s as a quoted JSON string at p, which has room for 6 * s.size() + 2
// bytes (the worst case: every byte escaped); returns the end.
char* write_json_string(char* p, std::string_view s);

// Appends s as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace netlof
