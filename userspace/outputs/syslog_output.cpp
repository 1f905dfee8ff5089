#include "userspace/outputs/syslog_output.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "userspace/outputs/falco_json.hpp"

namespace netlof {

namespace {

constexpr const char* kFacilities[] = {"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
                                       "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
                                       "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};

// The alert's JSON line without its newline.
std::string json_of(std::string line) {
    if (!line.empty() && line.back() == '\n') line.pop_back();
    return line;
}

}  // namespace

std::optional<int> syslog_facility(std::string_view name) {
    for (int f = 0; f < 24; ++f)
        if (name == kFacilities[f]) return f;
    return std::nullopt;
}

std::string_view syslog_facility_name(int facility) {
    return facility >= 0 && facility < 24 ? kFacilities[facility] : "user";
}

std::string rfc5424(int facility, Priority priority, double time, std::string_view hostname, long pid,
                    std::string_view msgid, std::string_view message) {
    // Falco's priorities are syslog's severities, in the same order.
    const int pri = facility * 8 + static_cast<int>(priority);
    return fmt::format("<{}>1 {} {} netlof {} {} - {}", pri, iso8601_utc(time), hostname.empty() ? "-" : hostname, pid,
                       msgid, message);
}

SyslogOutput::SyslogOutput(std::string socket_path, int facility, std::string hostname, std::size_t max_backlog_bytes)
    : path_(std::move(socket_path)), facility_(facility), hostname_(std::move(hostname)), max_backlog_(max_backlog_bytes) {
    connect_socket();  // not there yet: alerts wait, and maintain() says so
}

SyslogOutput::~SyslogOutput() {
    if (fd_ >= 0) ::close(fd_);
}

bool SyslogOutput::connect_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
        last_errno_ = errno;
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
        return false;
    }
    return true;
}

void SyslogOutput::write(const Alert& a) {
    send(rfc5424(facility_, a.priority, a.time, hostname_, ::getpid(), rule_name(a.rule), json_of(format_alert(a, hostname_))));
}

void SyslogOutput::write(const SensorDrops& d) {
    send(rfc5424(facility_, rule_priority(Rule::SensorDrops), d.time, hostname_, ::getpid(), rule_name(Rule::SensorDrops),
                 json_of(format_sensor_drops(d, hostname_))));
}

void SyslogOutput::send(std::string message) {
    if (backlog_bytes_ + message.size() > max_backlog_) {
        ++lost_;  // counted, and reported by the stats line and the metrics
        return;
    }
    backlog_bytes_ += message.size();
    backlog_.push_back(std::move(message));
    flush_backlog();
}

bool SyslogOutput::flush_backlog() {
    while (!backlog_.empty()) {
        if (fd_ < 0 && !connect_socket()) {
            ++failed_writes_;
            failing_ = true;
            return false;
        }
        const std::string& m = backlog_.front();
        if (::send(fd_, m.data(), m.size(), MSG_NOSIGNAL) < 0) {
            last_errno_ = errno;
            if (errno == EMSGSIZE) {  // larger than the socket takes: no retry would send it
                ++lost_;
                backlog_bytes_ -= m.size();
                backlog_.pop_front();
                continue;
            }
            ++failed_writes_;
            failing_ = true;
            // The receiver went away (syslog restarted): connect again next time.
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
                ::close(fd_);
                fd_ = -1;
            }
            return false;
        }
        backlog_bytes_ -= m.size();
        backlog_.pop_front();
    }
    failing_ = false;
    return true;
}

bool SyslogOutput::reopen() { return connect_socket(); }

void SyslogOutput::maintain(const OutputLog& log) {
    if (!backlog_.empty()) flush_backlog();
    if (failing_ && !reported_failing_) {
        log(LogLevel::Error, fmt::format("failed to send alerts to syslog at {}: {}; they wait in memory (up to {} MiB)",
                                         path_, std::strerror(last_errno_), max_backlog_ >> 20));
        reported_failing_ = true;
    } else if (!failing_ && reported_failing_) {
        log(LogLevel::Notice, fmt::format("sending alerts to syslog at {} again: {} failed sends so far, {} lost", path_,
                                          failed_writes_, lost_));
        reported_failing_ = false;
    }
}

}  // namespace netlof
