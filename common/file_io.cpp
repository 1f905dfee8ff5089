#include "common/file_io.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diagnostic.hpp"

namespace netlof {

void fail_file(const std::string& path, const std::string& what, int err) {
    Diagnostic d;
    d.file = path;
    d.message = what + ": " + std::strerror(err);
    throw InputError(std::move(d));
}

namespace {

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads fd to its end (at most max_bytes), closing it unless keep_open.
std::string read_all(int fd, const std::string& path, std::size_t reserve, std::size_t max_bytes, bool keep_open) {
    std::string out;
    out.reserve(reserve);
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            if (!keep_open) ::close(fd);
            fail_file(path, "cannot read", err);
        }
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max_bytes) {
            if (!keep_open) ::close(fd);
            Diagnostic d;
            d.file = path;
            d.message = "grew past " + std::to_string(max_bytes >> 20) + " MiB while being read";
            throw InputError(std::move(d));
        }
    }
    if (!keep_open) ::close(fd);
    return out;
}

}  // namespace

std::string read_input_file(const std::string& path) {
    const bool is_stdin = path == "-";
    const int fd = is_stdin ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_file(path, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        fail_file(path, "cannot read", EISDIR);
    }
    return read_all(fd, path, S_ISREG(st.st_mode) ? static_cast<std::size_t>(st.st_size) : 0,
                    std::numeric_limits<std::size_t>::max(), is_stdin);
}

std::string read_trusted_file(const std::string& path, FileTrust trust, std::size_t max_bytes) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
    if (fd < 0) fail_file(path, "cannot open", errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        fail_file(path, "cannot stat", err);
    }
    auto refuse = [&](const std::string& message) {
        ::close(fd);
        Diagnostic d;
        d.file = path;
        d.message = message;
        throw InputError(std::move(d));
    };
    if (!S_ISREG(st.st_mode)) refuse(S_ISDIR(st.st_mode) ? "is a directory, not a file" : "is not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_bytes)
        refuse("is " + std::to_string(st.st_size) + " bytes, more than the " + std::to_string(max_bytes >> 20) +
               " MiB such a file may be");
    if (trust == FileTrust::Strict) {
        if (st.st_uid != 0 && st.st_uid != ::geteuid())
            refuse("is owned by uid " + std::to_string(st.st_uid) +
                   ": netlof acts on it as root, so it must be root's (chown root it, or pass --insecure-files)");
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            char mode[8];
            std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
            refuse(std::string("is writable by group or others (mode ") + mode +
                   "): netlof acts on it as root (chmod go-w it, or pass --insecure-files)");
        }
    }
    return read_all(fd, path, static_cast<std::size_t>(st.st_size), max_bytes, false);
}

OutputFile::OutputFile(std::string path, unsigned mode) : path_(std::move(path)) {
    if (path_ == "-") {
        stdout_ = true;
        return;
    }
    // A device or a pipe (/dev/null, /dev/stdout, a FIFO) is written as it is:
    // renaming a file over it would replace /dev/null itself when run as root.
    struct stat st {};
    if (::stat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd_ < 0) fail_file(path_, "cannot open for writing", errno);
        return;
    }
    tmp_ = path_ + ".tmp." + std::to_string(::getpid());
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd_ < 0) fail_file(path_, "cannot create " + tmp_, errno);
}

OutputFile::~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_ && !tmp_.empty()) ::unlink(tmp_.c_str());
}

void OutputFile::write(std::string_view data) {
    if (stdout_) {
        std::cout.write(data.data(), static_cast<std::streamsize>(data.size()));
        if (!std::cout) fail_file(path_, "cannot write to standard output", EIO);
        return;
    }
    if (!write_all(fd_, data)) fail_file(path_, "cannot write", errno);
}

void OutputFile::commit() {
    if (stdout_) {
        std::cout.flush();
        if (!std::cout) fail_file(path_, "cannot write to standard output", EIO);
        committed_ = true;
        return;
    }
    if (tmp_.empty()) {  // written in place
        const int err = ::close(fd_) != 0 ? errno : 0;
        fd_ = -1;
        if (err != 0) fail_file(path_, "cannot write", err);
        committed_ = true;
        return;
    }
    if (::fsync(fd_) != 0) fail_file(path_, "cannot write", errno);
    const int closed = ::close(fd_);
    fd_ = -1;
    if (closed != 0 || ::rename(tmp_.c_str(), path_.c_str()) != 0) fail_file(path_, "cannot replace", errno);
    committed_ = true;
    // The rename itself must reach the disk too, or a crash could bring the old file back.
    const std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/') + 1);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void write_output_file(const std::string& path, std::string_view data, unsigned mode) {
    OutputFile out(path, mode);
    out.write(data);
    out.commit();
}

}  // namespace netlof
