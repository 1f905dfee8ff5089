#include "common/diagnostic.hpp"

namespace netlof {

namespace {
std::string headline(const Diagnostic& d) {
    std::string out = d.file.empty() ? std::string("<input>") : d.file;
    if (d.line > 0) {
        out += ':' + std::to_string(d.line);
        if (d.column > 0) out += ':' + std::to_string(d.column);
    }
    out += ": error: ";
    if (!d.field.empty()) out += "field '" + d.field + "': ";
    out += d.message;
    return out;
}
}  // namespace

InputError::InputError(Diagnostic d) : std::runtime_error(headline(d)), diag_(std::move(d)) {}

std::string format_diagnostic(const Diagnostic& d) {
    std::string out = headline(d);
    if (!d.source_line.empty()) {
        // Keep a huge or binary line from flooding the terminal.
        constexpr std::size_t kMaxShown = 200;
        std::string shown = d.source_line.substr(0, kMaxShown);
        for (char& c : shown)
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t') c = '?';
        out += "\n" + shown;
        if (d.source_line.size() > kMaxShown) out += "...";
        if (d.column > 0 && d.column <= shown.size() + 1) {
            out += '\n';
            out.append(d.column - 1, ' ');
            out += '^';
        }
    }
    return out;
}

}  // namespace netlof
