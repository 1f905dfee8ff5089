// Where alert lines and the daemon's record log go: a file that survives
// rotation (reopen()), removal and a full disk.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netlof {

// write() appends whole lines in one write(2), so `tail -f` shows them at
// once; reopen() follows a rotated or removed file.
class FileLineSink {
public:
    // Opens path for appending (created 0640). Throws InputError if it cannot.
    // A failed write (disk full, I/O error) is never fatal: the lines wait in
    // a bounded backlog and go out, in order, once writing works again; lines
    // past the bound are counted as lost.
    explicit FileLineSink(std::string path, std::size_t max_backlog_bytes = 4u << 20);
    ~FileLineSink();
    FileLineSink(const FileLineSink&) = delete;
    FileLineSink& operator=(const FileLineSink&) = delete;
    bool write(std::string_view line);
    bool reopen();

    // What maintain() found: for the caller's log, once per change.
    enum class Event { None, Failing, Recovered, Recreated };
    // Called about once a second: retries the backlog, and recreates the
    // file when someone removed it (writes to an unlinked file reach no one).
    Event maintain();

    const std::string& path() const { return path_; }
    std::uint64_t failed_writes() const { return failed_writes_; }  // write(2) calls that failed
    std::uint64_t lost_lines() const { return lost_lines_; }        // lines the backlog had no room for
    std::size_t backlog_bytes() const { return backlog_.size(); }
    int last_error() const { return last_errno_; }

private:
    bool flush_backlog();  // true when the backlog is empty afterwards

    std::string path_;
    int fd_ = -1;
    std::size_t max_backlog_;
    std::string backlog_;  // unwritten bytes, whole lines (the first may be a remainder)
    bool failing_ = false, reported_failing_ = false;
    int last_errno_ = 0;
    std::uint64_t failed_writes_ = 0, lost_lines_ = 0;
};

}  // namespace netlof
