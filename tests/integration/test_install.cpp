// `make install` and what it installs: the systemd unit passes
// `systemd-analyze verify`, its ExecStartPre and ExecStart lines run as
// written (systemd is not PID 1 on these machines), logrotate rotates the
// logs and the daemon follows. Installed under a temporary PREFIX,
// SYSCONFDIR and LOCALSTATEDIR so the paths written into the files are real.
#include <catch2/catch.hpp>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netlof::test::run_program;

namespace {

netlof::test::RunResult make_install(const std::vector<std::string>& vars) {
    std::vector<std::string> argv{"/usr/bin/make", "-s", "--no-print-directory", "-C", NETLOF_SOURCE_DIR, "install"};
    argv.insert(argv.end(), vars.begin(), vars.end());
    return run_program(argv);
}

unsigned mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

// The words of the unit's `key=` line.
std::vector<std::string> unit_command(const std::string& unit, const std::string& key) {
    std::istringstream in(netlof::test::read_text(unit));
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + "=", 0) == 0) {
            std::istringstream words(line.substr(key.size() + 1));
            std::vector<std::string> out;
            for (std::string w; words >> w;) out.push_back(w);
            return out;
        }
    FAIL("no " << key << " in " << unit);
    return {};
}

}  // namespace

TEST_CASE("make install: FHS layout, a unit that verifies and starts, logrotate that the daemon follows",
          "[install][sensor]") {
    const std::string root = netlof::test::temp_dir("install");
    const auto r = make_install({"PREFIX=" + root + "/usr", "SYSCONFDIR=" + root + "/etc", "LOCALSTATEDIR=" + root + "/var"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const std::string etc = root + "/etc/netlof", unit = root + "/usr/lib/systemd/system/netlof.service";
    CHECK(mode_of(root + "/usr/bin/netlof") == 0755);
    CHECK(mode_of(root + "/usr/share/man/man8/netlof.8.gz") == 0644);
    CHECK(mode_of(etc + "/netlof.yaml") == 0644);
    CHECK(mode_of(etc + "/allowlist.yaml") == 0644);
    CHECK(mode_of(etc + "/pipeline-default.yaml") == 0644);
    CHECK(mode_of(root + "/var/lib/netlof") == 0700);
    CHECK(mode_of(root + "/var/log/netlof") == 0750);
    CHECK(netlof::test::read_text(etc + "/netlof.yaml").find(root + "/var/lib/netlof/model.bin") != std::string::npos);

    // (It also looks up the unit's Documentation=man:netlof(8), under the temporary prefix.)
    const auto verify = run_program({"/usr/bin/env", "MANPATH=" + root + "/usr/share/man", "/usr/bin/systemd-analyze", "verify", unit});
    INFO(verify.out << verify.err);
    CHECK(verify.status == 0);

    // ExecStartPre checks the installed config; ExecStart runs the daemon.
    const auto pre = run_program(unit_command(unit, "ExecStartPre"));
    INFO(pre.err);
    CHECK(pre.status == 0);
    CHECK(pre.out.find(": ok:") != std::string::npos);
    // As systemd would start it: the unit's CapabilityBoundingSet and NoNewPrivileges applied (setpriv).
    std::string bounding = "-all";
    for (const std::string& cap : unit_command(unit, "CapabilityBoundingSet")) {
        REQUIRE(cap.rfind("CAP_", 0) == 0);
        bounding += ",+";
        for (char c : cap.substr(4)) bounding += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    CHECK(unit_command(unit, "NoNewPrivileges") == std::vector<std::string>{"yes"});
    std::vector<std::string> argv{"/usr/bin/setpriv", "--bounding-set=" + bounding, "--inh-caps=-all", "--no-new-privs"};
    for (const std::string& w : unit_command(unit, "ExecStart")) argv.push_back(w);
    netlof::test::BackgroundProcess daemon(argv, root + "/stderr");
    if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "ExecStart did not start: " + daemon.log()))
        return;
    INFO(daemon.log());
    CHECK(daemon.log().find("dropped privileges: capabilities left cap_sys_ptrace") != std::string::npos);
    CHECK(daemon.log().find("no model at " + root + "/var/lib/netlof/model.bin: learning") != std::string::npos);
    CHECK(mode_of(root + "/var/log/netlof/alerts.jsonl") == 0640);

    // logrotate with the installed rules: the logs move, the daemon reopens new
    // ones, and another netlof command running (here a stand-in named netlof
    // that is not `netlof run`) is not sent the signal that would end it.
    fs::copy_file("/bin/sleep", root + "/netlof");
    netlof::test::BackgroundProcess bystander({root + "/netlof", "30"}, root + "/bystander.log");
    std::ofstream(root + "/var/log/netlof/alerts.jsonl", std::ios::app) << "{}\n";  // notifempty
    std::ofstream(root + "/var/log/netlof/records.jsonl", std::ios::app) << "{}\n";
    const auto rot = run_program({"/usr/sbin/logrotate", "--force", "--state", root + "/logrotate.state",
                                  root + "/etc/logrotate.d/netlof"});
    INFO(rot.out << rot.err);
    CHECK(rot.status == 0);
    CHECK(fs::exists(root + "/var/log/netlof/alerts.jsonl.1"));
    CHECK(daemon.wait_for_log("reopened the log files", 5s));
    CHECK(fs::exists(root + "/var/log/netlof/alerts.jsonl"));
    CHECK(daemon.stop(SIGTERM) == 0);
    CHECK(bystander.running());

    // A reinstall keeps the operator's edits.
    std::ofstream(etc + "/allowlist.yaml", std::ios::app) << "# edited\n";
    REQUIRE(make_install({"PREFIX=" + root + "/usr", "SYSCONFDIR=" + root + "/etc", "LOCALSTATEDIR=" + root + "/var"})
                .status == 0);
    CHECK(netlof::test::read_text(etc + "/allowlist.yaml").find("# edited") != std::string::npos);
    fs::remove_all(root);
}

TEST_CASE("make install DESTDIR stages the default FHS paths", "[install]") {
    const std::string dest = netlof::test::temp_dir("destdir");
    REQUIRE(make_install({"DESTDIR=" + dest}).status == 0);
    CHECK(fs::exists(dest + "/usr/local/bin/netlof"));
    const std::string unit = netlof::test::read_text(dest + "/usr/local/lib/systemd/system/netlof.service");
    CHECK(unit.find("ExecStart=/usr/local/bin/netlof run --config /etc/netlof/netlof.yaml") != std::string::npos);
    const std::string config = netlof::test::read_text(dest + "/etc/netlof/netlof.yaml");
    CHECK(config.find("path: /var/lib/netlof/model.bin") != std::string::npos);
    CHECK(config.find("path: /var/log/netlof/alerts.jsonl") != std::string::npos);
    CHECK(fs::exists(dest + "/etc/logrotate.d/netlof"));
    CHECK(fs::is_directory(dest + "/var/lib/netlof"));
    fs::remove_all(dest);
}
