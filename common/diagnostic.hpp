// Diagnostics for bad input, in bpftrace's shape: `file:line:col: error: message`
// followed by the offending line. Everything that reports a problem with a file
// builds a Diagnostic; only format_diagnostic() turns one into text.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace netlof {

struct Diagnostic {
    std::string file;         // path as the user gave it
    std::size_t line = 0;     // 1-based; 0 when the problem is not about a line
    std::size_t column = 0;   // 1-based; 0 when unknown
    std::string field;        // the column, key or record field at fault ("" if none)
    std::string message;      // what is wrong, without file/line prefix
    std::string source_line;  // the offending line's text, when there is one
};

// Fatal input error: thrown once where the problem is found, caught in main(),
// printed through format_diagnostic() and turned into exit status 2.
class InputError : public std::runtime_error {
public:
    explicit InputError(Diagnostic d);
    const Diagnostic& diagnostic() const noexcept { return diag_; }

private:
    Diagnostic diag_;
};

// The one emitter: "file:line:col: error: field 'x': message\n<line>\n<caret>".
std::string format_diagnostic(const Diagnostic& d);

}  // namespace netlof
