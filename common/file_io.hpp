// Reading inputs and writing outputs, with failures reported as diagnostics
// that name the file. Outputs are written atomically (temporary file, fsync,
// rename), so a crash never leaves half a model or half a CSV behind.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace netlof {

// Throws InputError naming path: "what: <strerror(err)>".
[[noreturn]] void fail_file(const std::string& path, const std::string& what, int err);

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
// An output written in pieces, as write_output_file writes a whole one: to a
// temporary file that commit() renames over path, so a failure midway (bad
// input found in the middle of a large file) leaves the old file, or none.
// "-" is standard output; a path that is not a regular file is written in
// place. Throws InputError (exit status 2) when the file cannot be written.
class OutputFile {
public:
    explicit OutputFile(std::string path, unsigned mode = 0644);
    ~OutputFile();  // without commit(): the temporary file is removed
    OutputFile(const OutputFile&) = delete;
    OutputFile& operator=(const OutputFile&) = delete;
    void write(std::string_view data);
    void commit();

private:
    std::string path_, tmp_;
    int fd_ = -1;
    bool stdout_ = false;
    bool committed_ = false;
};

// Replaces path with data atomically; "-" writes to standard output, and a
// path that is not a regular file (/dev/null, a FIFO) is written in place.
// Throws InputError (exit status 2) when the file cannot be written.
void write_output_file(const std::string& path, std::string_view data, unsigned mode = 0644);

}  // namespace netlof
