// Schema checks for every YAML file netlof reads (pipelines, configs,
// allowlists): unknown and duplicate keys are errors, and every error names
// the file, line and column of the offending node, as Falco does.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <yaml-cpp/yaml.h>

#include "common/diagnostic.hpp"

namespace netlof {

class YamlDocument {
public:
    // Parses text; a syntax error, an empty document or binary data throws InputError.
    YamlDocument(std::string_view text, std::string file);

    const YAML::Node& root() const { return root_; }
    const std::string& file() const { return file_; }

    // An InputError located at node (its line and column) about field.
    InputError error(const YAML::Node& at, std::string field, std::string message) const;

    // Requires a mapping whose keys are all in allowed and none repeated.
    void check_map(const YAML::Node& node, std::string_view what, std::initializer_list<std::string_view> allowed) const;
    // Requires a mapping with plain, unique keys (names chosen by the user).
    void check_unique_keys(const YAML::Node& node, std::string_view what) const;
    // Requires node[key] to exist (it must be a map checked by check_map).
    YAML::Node require(const YAML::Node& map, std::string_view key, std::string_view what) const;
    std::string scalar(const YAML::Node& node, std::string_view field) const;
    double number(const YAML::Node& node, std::string_view field) const;

private:
    std::string line_text(std::size_t line) const;  // 1-based

    std::string file_;
    std::string text_;
    YAML::Node root_;
};

}  // namespace netlof
