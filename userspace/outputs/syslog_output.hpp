// Alerts to syslog, so a fleet's rsyslog or syslog-ng ships them to its
// collector: RFC 5424 datagrams to a local socket (/dev/log by default),
// MSGID the rule, the message the alert's JSON line. A socket that is not
// there (syslog restarting) does not lose alerts: they wait in a bounded
// backlog and go out, in order, once it answers again.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "userspace/outputs/alert_output.hpp"

namespace netlof {

// "local0" -> 16, as syslog numbers facilities; nullopt for another word.
std::optional<int> syslog_facility(std::string_view name);
std::string_view syslog_facility_name(int facility);

// One RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME netlof PROCID MSGID - MSG.
std::string rfc5424(int facility, Priority priority, double time, std::string_view hostname, long pid,
                    std::string_view msgid, std::string_view message);

class SyslogOutput : public AlertOutput {
public:
    SyslogOutput(std::string socket_path, int facility, std::string hostname, std::size_t max_backlog_bytes = 4u << 20);
    ~SyslogOutput() override;
    const char* name() const override { return "syslog"; }
    void write(const Alert& a) override;
    void write(const SensorDrops& d) override;
    bool reopen() override;
    void maintain(const OutputLog& log) override;
    std::uint64_t failed_writes() const override { return failed_writes_; }
    std::uint64_t lost_lines() const override { return lost_; }

private:
    void send(std::string message);
    bool connect_socket();
    bool flush_backlog();  // true when the backlog is empty afterwards

    std::string path_;
    int facility_;
    std::string hostname_;
    std::size_t max_backlog_;
    int fd_ = -1;
    std::deque<std::string> backlog_;
    std::size_t backlog_bytes_ = 0;
    int last_errno_ = 0;
    bool failing_ = false, reported_failing_ = false;
    std::uint64_t failed_writes_ = 0, lost_ = 0;
};

}  // namespace netlof
