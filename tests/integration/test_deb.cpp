// `make deb` and the package it builds, installed on this machine with dpkg:
// files where Debian puts them, configs as conffiles, a unit that verifies
// and starts as systemd would start it, a man page that renders, the
// version it says, and removal and purge that leave nothing behind.
#include <catch2/catch.hpp>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "tests/test_support.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using netlof::test::run_program;

namespace {

std::vector<std::string> words_of(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

std::string unit_value(const std::string& unit, const std::string& key) {
    std::istringstream in(netlof::test::read_text(unit));
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    FAIL("no " << key << " in " << unit);
    return {};
}

std::string field_of(const std::string& control, const std::string& key) {
    const std::regex re("(^|\n)" + key + ": ([^\n]*)");
    std::smatch m;
    return std::regex_search(control, m, re) ? m[2].str() : "";
}

bool installed() {
    const auto r = run_program({"/usr/bin/dpkg-query", "-W", "-f=${Status}", "netlof"});
    return r.status == 0 && r.out.find("installed") != std::string::npos && r.out.find("not-installed") == std::string::npos;
}

}  // namespace

TEST_CASE("make deb: a package that installs, verifies, starts as its unit would, and purges clean", "[install][sensor]") {
    // This test installs into the machine's own dpkg database: never over an operator's netlof.
    REQUIRE_FALSE(installed());
    REQUIRE_FALSE(fs::exists("/etc/netlof"));
    REQUIRE_FALSE(fs::exists("/usr/bin/netlof"));

    const auto build = run_program({"/usr/bin/make", "-s", "--no-print-directory", "-C", NETLOF_SOURCE_DIR, "deb"});
    INFO(build.out << build.err);
    REQUIRE(build.status == 0);
    const auto version = run_program({"/usr/bin/make", "-s", "--no-print-directory", "-C", NETLOF_SOURCE_DIR,
                                      "--eval=print-version: ; @echo $(VERSION) $(DEB)", "print-version"});
    const std::vector<std::string> v = words_of(version.out);
    REQUIRE(v.size() == 2);
    const std::string deb = std::string(NETLOF_SOURCE_DIR) + "/" + v[1];

    const auto info = run_program({"/usr/bin/dpkg-deb", "-f", deb});
    REQUIRE(info.status == 0);
    CHECK(field_of(info.out, "Package") == "netlof");
    CHECK(field_of(info.out, "Version") == v[0]);
    CHECK(field_of(info.out, "Depends").find("libbpf1") != std::string::npos);

    const auto install = run_program({"/usr/bin/dpkg", "-i", deb});
    INFO(install.out << install.err);
    REQUIRE(install.status == 0);
    struct Purge {
        ~Purge() { run_program({"/usr/bin/dpkg", "--purge", "netlof"}); }
    } purge_at_exit;  // even when a check below fails
    CHECK(installed());

    // Where Debian puts things; the configs are conffiles (dpkg keeps an operator's edits).
    for (const char* f : {"/usr/bin/netlof", "/usr/lib/systemd/system/netlof.service", "/etc/logrotate.d/netlof",
                          "/usr/share/man/man8/netlof.8.gz", "/usr/share/doc/netlof/README.md", "/etc/netlof/netlof.yaml",
                          "/etc/netlof/allowlist.yaml", "/etc/netlof/pipeline-default.yaml"})
        CHECK(fs::exists(f));
    const auto status = run_program({"/usr/bin/dpkg-query", "-W", "-f=${Conffiles}", "netlof"});
    for (const char* f : {"/etc/netlof/netlof.yaml", "/etc/netlof/allowlist.yaml", "/etc/logrotate.d/netlof"})
        CHECK(status.out.find(f) != std::string::npos);

    // The version the package carries.
    const auto ver = run_program({"/usr/bin/netlof", "--version"});
    CHECK(ver.out == "netlof " + v[0] + "\n");

    // The man page renders without a warning and names the commands.
    const auto man = run_program({"/usr/bin/man", "--warnings", "-P", "cat", "8", "netlof"});
    INFO(man.err);
    CHECK(man.status == 0);
    CHECK(man.err.empty());
    for (const char* w : {"check-config", "replay", "report", "SIGHUP", "/etc/netlof/netlof.yaml"})
        CHECK(man.out.find(w) != std::string::npos);

    // The unit verifies, names the installed binary and config, and starts as systemd would start it.
    const std::string unit = "/usr/lib/systemd/system/netlof.service";
    const auto verify = run_program({"/usr/bin/systemd-analyze", "verify", unit});
    INFO(verify.out << verify.err);
    CHECK(verify.status == 0);
    CHECK(unit_value(unit, "ExecStart") == "/usr/bin/netlof run --config /etc/netlof/netlof.yaml");
    const auto pre = run_program(words_of(unit_value(unit, "ExecStartPre")));
    INFO(pre.out << pre.err);
    CHECK(pre.status == 0);
    std::string bounding = "-all";
    for (const std::string& cap : words_of(unit_value(unit, "CapabilityBoundingSet"))) {
        bounding += ",+";
        for (char c : cap.substr(4)) bounding += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    std::vector<std::string> argv{"/usr/bin/setpriv", "--bounding-set=" + bounding, "--inh-caps=-all", "--no-new-privs"};
    for (const std::string& w : words_of(unit_value(unit, "ExecStart"))) argv.push_back(w);
    const std::string log_dir = netlof::test::temp_dir("deb");
    {
        netlof::test::BackgroundProcess daemon(argv, log_dir + "/stderr");
        if (!netlof::test::sensor_started(daemon.wait_for_log("running:", 10s), "the packaged daemon did not start: " + daemon.log()))
            return;
        INFO(daemon.log());
        CHECK(daemon.log().find("no model at /var/lib/netlof/model.bin: learning") != std::string::npos);
        CHECK(daemon.stop(SIGTERM) == 0);
    }
    CHECK(fs::exists("/var/log/netlof/alerts.jsonl"));

    // An operator's edit survives removal (conffile); purge takes it, the state and the logs.
    std::ofstream("/etc/netlof/allowlist.yaml", std::ios::app) << "# edited\n";
    const auto remove = run_program({"/usr/bin/dpkg", "--remove", "netlof"});
    INFO(remove.out << remove.err);
    CHECK(remove.status == 0);
    CHECK_FALSE(fs::exists("/usr/bin/netlof"));
    CHECK_FALSE(fs::exists(unit));
    CHECK_FALSE(fs::exists("/usr/share/man/man8/netlof.8.gz"));
    CHECK(netlof::test::read_text("/etc/netlof/allowlist.yaml").find("# edited") != std::string::npos);
    const auto purge = run_program({"/usr/bin/dpkg", "--purge", "netlof"});
    INFO(purge.out << purge.err);
    CHECK(purge.status == 0);
    CHECK_FALSE(installed());
    for (const char* f : {"/etc/netlof", "/etc/logrotate.d/netlof", "/var/lib/netlof", "/var/log/netlof", "/usr/share/doc/netlof"})
        CHECK_FALSE(fs::exists(f));
}
