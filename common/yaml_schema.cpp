#include "common/yaml_schema.hpp"

#include <cmath>
#include <cstring>
#include <fast_float/fast_float.h>
#include <set>

namespace netlof {

YamlDocument::YamlDocument(std::string_view text, std::string file) : file_(std::move(file)), text_(text) {
    if (std::memchr(text.data(), '\0', text.size()) != nullptr) {
        Diagnostic d;
        d.file = file_;
        d.message = "file contains NUL bytes: not a YAML text file";
        throw InputError(std::move(d));
    }
    try {
        root_ = YAML::Load(text_);
    } catch (const YAML::Exception& e) {
        Diagnostic d;
        d.file = file_;
        d.line = e.mark.is_null() ? 0 : static_cast<std::size_t>(e.mark.line) + 1;
        d.column = e.mark.is_null() ? 0 : static_cast<std::size_t>(e.mark.column) + 1;
        d.message = "invalid YAML: " + e.msg;
        if (d.line > 0) d.source_line = line_text(d.line);
        throw InputError(std::move(d));
    }
    if (!root_.IsDefined() || root_.IsNull()) {
        Diagnostic d;
        d.file = file_;
        d.message = "empty file: expected a YAML mapping";
        throw InputError(std::move(d));
    }
}

std::string YamlDocument::line_text(std::size_t line) const {
    std::size_t start = 0;
    for (std::size_t l = 1; l < line; ++l) {
        start = text_.find('\n', start);
        if (start == std::string::npos) return {};
        ++start;
    }
    std::size_t end = text_.find('\n', start);
    std::string out = text_.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!out.empty() && out.back() == '\r') out.pop_back();
    return out;
}

InputError YamlDocument::error(const YAML::Node& at, std::string field, std::string message) const {
    Diagnostic d;
    d.file = file_;
    const YAML::Mark m = at.Mark();
    if (!m.is_null()) {
        d.line = static_cast<std::size_t>(m.line) + 1;
        d.column = static_cast<std::size_t>(m.column) + 1;
        d.source_line = line_text(d.line);
    }
    d.field = std::move(field);
    d.message = std::move(message);
    return InputError(std::move(d));
}

void YamlDocument::check_map(const YAML::Node& node, std::string_view what,
                             std::initializer_list<std::string_view> allowed) const {
    if (!node.IsMap()) throw error(node, std::string(what), "expected a mapping of keys to values");
    std::set<std::string> seen;
    for (const auto& kv : node) {
        if (!kv.first.IsScalar()) throw error(kv.first, std::string(what), "keys must be plain names");
        const std::string key = kv.first.Scalar();
        bool known = false;
        for (std::string_view a : allowed) known = known || a == key;
        if (!known) {
            std::string list;
            for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
            throw error(kv.first, key, "unknown key in " + std::string(what) + " (expected one of: " + list + ")");
        }
        if (!seen.insert(key).second) throw error(kv.first, key, "duplicate key in " + std::string(what));
    }
}

void YamlDocument::check_unique_keys(const YAML::Node& node, std::string_view what) const {
    if (!node.IsMap()) throw error(node, std::string(what), "expected a mapping of names to values");
    std::set<std::string> seen;
    for (const auto& kv : node) {
        if (!kv.first.IsScalar()) throw error(kv.first, std::string(what), "keys must be plain names");
        if (!seen.insert(kv.first.Scalar()).second)
            throw error(kv.first, kv.first.Scalar(), "duplicate key in " + std::string(what));
    }
}

YAML::Node YamlDocument::require(const YAML::Node& map, std::string_view key, std::string_view what) const {
    YAML::Node v = map[std::string(key)];
    if (!v.IsDefined() || v.IsNull()) throw error(map, std::string(key), "missing required key in " + std::string(what));
    return v;
}

std::string YamlDocument::scalar(const YAML::Node& node, std::string_view field) const {
    if (!node.IsScalar()) throw error(node, std::string(field), "expected a single value, not a list or mapping");
    return node.Scalar();
}

double YamlDocument::number(const YAML::Node& node, std::string_view field) const {
    const std::string s = scalar(node, field);
    double v = 0;
    auto r = fast_float::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v))
        throw error(node, std::string(field), "'" + s + "' is not a finite number");
    return v;
}

}  // namespace netlof
