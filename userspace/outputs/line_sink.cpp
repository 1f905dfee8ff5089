#include "userspace/outputs/line_sink.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diagnostic.hpp"

namespace netlof {

FileLineSink::FileLineSink(std::string path, std::size_t max_backlog_bytes)
    : path_(std::move(path)), max_backlog_(max_backlog_bytes) {
    if (!reopen()) {
        Diagnostic d;
        d.file = path_;
        d.message = std::string("cannot open for appending: ") + std::strerror(errno);
        throw InputError(std::move(d));
    }
}

FileLineSink::~FileLineSink() {
    flush_backlog();
    if (fd_ >= 0) ::close(fd_);
}

bool FileLineSink::reopen() {
    const int fd = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return false;
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
    return true;
}

namespace {
// A record log write carries a whole poll's lines: count each one lost.
std::uint64_t lines_in(std::string_view text) {
    return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n')));
}
}  // namespace

bool FileLineSink::flush_backlog() {
    // Partial writes leave the rest of a line first in the backlog; it is
    // written before anything else, so the file still gets whole lines.
    std::size_t done = 0;
    while (done < backlog_.size()) {
        const ssize_t n = fd_ < 0 ? -1 : ::write(fd_, backlog_.data() + done, backlog_.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            last_errno_ = fd_ < 0 ? EBADF : errno;
            ++failed_writes_;
            failing_ = true;
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    backlog_.erase(0, done);
    if (backlog_.empty()) failing_ = false;
    return backlog_.empty();
}

bool FileLineSink::write(std::string_view line) {
    // Lines wait behind an unwritten backlog, so order is kept.
    if (!backlog_.empty() && !flush_backlog()) {
        if (backlog_.size() + line.size() <= max_backlog_) backlog_.append(line);
        else lost_lines_ += lines_in(line);
        return false;
    }
    // One write(2) per line on an O_APPEND file: readers never see half a line.
    while (!line.empty()) {
        const ssize_t n = fd_ < 0 ? -1 : ::write(fd_, line.data(), line.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            last_errno_ = fd_ < 0 ? EBADF : errno;
            ++failed_writes_;
            failing_ = true;
            if (line.size() <= max_backlog_) backlog_.assign(line);
            else lost_lines_ += lines_in(line);
            return false;
        }
        line.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

FileLineSink::Event FileLineSink::maintain() {
    Event e = Event::None;
    struct stat st {};
    if (fd_ >= 0 && ::fstat(fd_, &st) == 0 && st.st_nlink == 0 && reopen()) e = Event::Recreated;
    if (!backlog_.empty()) flush_backlog();
    if (failing_ && !reported_failing_) {
        reported_failing_ = true;
        return Event::Failing;
    }
    if (!failing_ && reported_failing_) {
        reported_failing_ = false;
        return Event::Recovered;
    }
    return e;
}

}  // namespace netlof
