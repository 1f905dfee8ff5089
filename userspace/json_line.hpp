// Appends one JSON object to a reused buffer without building a document:
// the record and alert paths run per connection, and nlohmann::json's DOM
// cost ~40% of the sensor's CPU there (it allocates per field). Strings are
// escaped and invalid UTF-8 becomes U+FFFD, so every line parses.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netlof {

// Keys must be plain ASCII names (they are written as they are); values are
// escaped.
class JsonLine {
public:
    explicit JsonLine(std::string& out) : out_(out) { out_ += '{'; }
    JsonLine& field(std::string_view key, std::string_view value);
    JsonLine& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
    JsonLine& field(std::string_view key, std::uint64_t value);
    JsonLine& field(std::string_view key, std::int64_t value);
    JsonLine& field(std::string_view key, std::uint32_t value) { return field(key, std::uint64_t{value}); }
    JsonLine& field(std::string_view key, int value) { return field(key, std::int64_t{value}); }
    JsonLine& field(std::string_view key, std::uint16_t value) { return field(key, std::uint64_t{value}); }
    JsonLine& field(std::string_view key, double value);  // shortest round-trip form; non-finite -> null
    JsonLine& raw(std::string_view key, std::string_view json);  // value already JSON
    void end() { out_ += "}\n"; }

private:
    void key(std::string_view k);
    std::string& out_;
    bool first_ = true;
};

// Appends s as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace netlof
