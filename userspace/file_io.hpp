// Reading inputs and writing outputs, with failures reported as diagnostics
// that name the file. Outputs are written atomically (temporary file, fsync,
// rename), so a crash never leaves half a model or half a CSV behind.
#pragma once

#include <string>
#include <string_view>

namespace netlof {

// The whole file, or standard input for "-". Throws InputError when unreadable.
std::string read_input_file(const std::string& path);
// Replaces path with data atomically; "-" writes to standard output.
// Throws InputError (exit status 2) when the file cannot be written.
void write_output_file(const std::string& path, std::string_view data, unsigned mode = 0644);

}  // namespace netlof
