#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/test_support.hpp"
#include "userspace/outputs/syslog_output.hpp"

using namespace netlof;

namespace {

// A datagram socket bound at path, as syslog's /dev/log is.
int bind_dgram(const std::string& path) {
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

std::vector<std::string> received(int fd) {
    std::vector<std::string> out;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.emplace_back(buf, static_cast<std::size_t>(n));
    return out;
}

}  // namespace

TEST_CASE("RFC 5424: PRI from facility and priority, MSGID the rule, the alert as the message", "[syslog_output]") {
    CHECK(syslog_facility("local0") == 16);
    CHECK(syslog_facility("local7") == 23);
    CHECK(syslog_facility("daemon") == 3);
    CHECK_FALSE(syslog_facility("local8"));
    CHECK(syslog_facility_name(19) == "local3");
    CHECK(rfc5424(16, Priority::Warning, 1764454860.25, "vm", 42, "allowlist_violation", "{\"a\":1}") ==
          "<132>1 2025-11-29T22:21:00.250000Z vm netlof 42 allowlist_violation - {\"a\":1}");
    CHECK(rfc5424(3, Priority::Error, 0, "", 1, "sensor_drops", "x").rfind("<27>1 1970-01-01T00:00:00.000000Z - netlof 1 ", 0) == 0);
}

TEST_CASE("the syslog output sends each alert as one datagram and keeps them while the socket is gone",
          "[syslog_output]") {
    const std::string dir = test::temp_dir("syslog-output");
    const std::string path = dir + "/log.sock";
    int fd = bind_dgram(path);
    SyslogOutput out(path, 19, "vm");
    std::vector<std::string> log;
    const OutputLog keep = [&](LogLevel, const std::string& m) { log.push_back(m); };
    out.write(test::violation(1000));
    auto got = received(fd);
    REQUIRE(got.size() == 1);
    CHECK(got[0].rfind("<156>1 1970-01-01T00:16:40.000000Z vm netlof ", 0) == 0);  // local3.warning
    CHECK(got[0].find(" allowlist_violation - {\"time\":") != std::string::npos);

    // Gone (syslog restarting): the alerts wait, in order, and the log says so once.
    ::close(fd);
    std::filesystem::remove(path);
    out.write(test::violation(1001, "wget"));
    out.write(test::violation(1002, "nc"));
    out.maintain(keep);
    out.maintain(keep);
    CHECK(out.failed_writes() >= 1);
    REQUIRE(log.size() == 1);
    CHECK(log[0].find("failed to send alerts to syslog at " + path) == 0);
    fd = bind_dgram(path);
    out.maintain(keep);
    got = received(fd);
    REQUIRE(got.size() == 2);
    CHECK(got[0].find("\"proc.name\":\"wget\"") != std::string::npos);
    CHECK(got[1].find("\"proc.name\":\"nc\"") != std::string::npos);
    REQUIRE(log.size() == 2);
    CHECK(log[1].find("again") != std::string::npos);
    CHECK(out.lost_lines() == 0);
    ::close(fd);
}

TEST_CASE("a full syslog backlog counts what it cannot keep", "[syslog_output]") {
    const std::string dir = test::temp_dir("syslog-full");
    SyslogOutput out(dir + "/none.sock", 16, "vm", 4096);  // nobody listens; room for a few alerts
    for (int i = 0; i < 20; ++i) out.write(test::violation(1000 + i));
    CHECK(out.lost_lines() > 0);
    CHECK(out.lost_lines() < 20);
}
