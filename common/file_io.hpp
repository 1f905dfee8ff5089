// Reading inputs and writing outputs, with failures reported as diagnostics
// that name the file. Outputs are written atomically (temporary file, fsync,
// rename), so a crash never leaves half a model or half a CSV behind.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netlof {

// The whole file, or standard input for "-". Throws InputError when unreadable.
std::string read_input_file(const std::string& path);
// Files netlof trusts as root (config, allowlists, pipeline, model): the
// daemon acts on what they say, so, as sshd's StrictModes, it refuses one
// that someone other than root could have written. Relaxed is for
// development checkouts (--insecure-files).
enum class FileTrust { Strict, Relaxed };
inline constexpr std::size_t kMaxConfigBytes = 16u << 20;
inline constexpr std::size_t kMaxModelBytes = std::size_t{1} << 30;
// A regular file of at most max_bytes; under Strict owned by root (or by
// the user running netlof) and not writable by group or others. Throws
// InputError naming the file and what is wrong.
std::string read_trusted_file(const std::string& path, FileTrust trust, std::size_t max_bytes);
// Replaces path with data atomically; "-" writes to standard output, and a
// path that is not a regular file (/dev/null, a FIFO) is written in place.
// Throws InputError (exit status 2) when the file cannot be written.
void write_output_file(const std::string& path, std::string_view data, unsigned mode = 0644);

}  // namespace netlof
