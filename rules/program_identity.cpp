#include "rules/program_identity.hpp"

#include <array>
#include <cctype>

#include "rules/allowlist.hpp"

namespace netlof {

namespace {

bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool runs_scripts(std::string_view exe) {
    exe = without_deleted_suffix(exe);
    const std::size_t slash = exe.rfind('/');
    std::string_view base = slash == std::string_view::npos ? exe : exe.substr(slash + 1);
    // A version after the name (python3.11, perl5.36.0, ruby3.1, php8.2) is the same interpreter.
    while (!base.empty() && (is_digit(base.back()) || base.back() == '.')) base.remove_suffix(1);
    static constexpr std::array<std::string_view, 18> kInterpreters = {
        "python", "pypy", "perl", "ruby", "node", "nodejs", "php", "php-cgi", "lua", "tclsh",
        "Rscript", "pwsh", "bash", "sh", "dash", "zsh", "ksh", "mksh"};
    for (std::string_view i : kInterpreters)
        if (base == i) return true;
    return false;
}

void unit_kind_into(std::string_view unit, std::string& out) {
    for (std::size_t i = 0; i < unit.size();) {
        std::size_t hex = i;
        while (hex < unit.size() && is_hex(unit[hex])) ++hex;
        if (hex - i >= 12) {
            out += "ID";
            i = hex;
        } else if (is_digit(unit[i])) {
            out += 'N';
            while (i < unit.size() && is_digit(unit[i])) ++i;
        } else {
            out += unit[i++];
        }
    }
}

void executable_key_into(std::string_view process_name, std::string_view exe, std::string& out) {
    if (!exe.empty()) {
        out.assign(without_deleted_suffix(exe));
    } else {
        out.assign("name:");
        out.append(process_name);
    }
}

void program_key_into(std::string_view process_name, std::string_view exe, std::string_view unit, std::string& out) {
    executable_key_into(process_name, exe, out);
    if (!exe.empty() && runs_scripts(exe)) {
        out += '\t';
        out += process_name;
    }
    if (!unit.empty()) {
        out += "\t@";
        unit_kind_into(unit, out);
    }
}

std::string program_key(std::string_view process_name, std::string_view exe, std::string_view unit) {
    std::string key;
    program_key_into(process_name, exe, unit, key);
    return key;
}

std::string_view program_key_exe(std::string_view key) {
    if (key.rfind("name:", 0) == 0) return {};
    return key.substr(0, key.find('\t'));
}

std::string program_key_text(std::string_view key) {
    std::string text;
    std::size_t at = 0;
    while (at <= key.size()) {
        const std::size_t tab = key.find('\t', at);
        const std::string_view part = key.substr(at, tab == std::string_view::npos ? std::string_view::npos : tab - at);
        if (at == 0) text += part;
        else if (!part.empty() && part[0] == '@') text += " in " + std::string(part.substr(1));
        else text += " (" + std::string(part) + ")";
        if (tab == std::string_view::npos) break;
        at = tab + 1;
    }
    return text;
}

}  // namespace netlof
