#include <catch2/catch.hpp>

#include "common/diagnostic.hpp"
#include "userspace/commands/synth.hpp"
#include "rules/allowlist.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

namespace {
Endpoint ep(const char* ip, std::uint16_t port) {
    auto e = parse_endpoint(ip, port);
    REQUIRE(e);
    return *e;
}
Diagnostic allowlist_error(const std::string& text) {
    INFO(text);
    return test::diagnostic_of([&] { Allowlist::parse(text, "allow.yaml"); });
}
}  // namespace

TEST_CASE("destination syntax: addresses, CIDRs, ports, ranges, IPv6", "[allowlist]") {
    struct Ok {
        const char* text;
        int family, prefix;
        std::uint16_t lo, hi;
    };
    for (const Ok& c : {Ok{"10.1.2.3", 4, 32, 0, 65535}, Ok{"10.0.0.0/8", 4, 8, 0, 65535}, Ok{"192.0.2.10:443", 4, 32, 443, 443},
                        Ok{"192.0.2.0/24:8000-8100", 4, 24, 8000, 8100}, Ok{"2001:db8::1", 6, 128, 0, 65535},
                        Ok{"2001:db8::/32", 6, 32, 0, 65535}, Ok{"[2001:db8::1]:443", 6, 128, 443, 443},
                        Ok{"[::/0]:1-1024", 6, 0, 1, 1024}, Ok{"::ffff:198.51.100.2", 4, 32, 0, 65535},
                        Ok{"::ffff:198.51.100.0/120", 4, 24, 0, 65535}}) {
        INFO(c.text);
        std::string why;
        const auto d = parse_destination(c.text, &why);
        REQUIRE(d);
        CHECK(d->family == c.family);
        CHECK(d->prefix == c.prefix);
        CHECK(d->port_lo == c.lo);
        CHECK(d->port_hi == c.hi);
    }
    for (const char* bad : {"", "10.0.0.256", "10.0.0.0/33", "10.0.0.0/x", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:",
                            "1.2.3.4:900-80", "[2001:db8::1", "[2001:db8::1]443", "2001:db8::/129", "example.com",
                            "::ffff:1.2.3.4/64"}) {
        INFO(bad);
        std::string why;
        CHECK_FALSE(parse_destination(bad, &why));
        CHECK_FALSE(why.empty());
    }
}

TEST_CASE("destinations match by prefix bits, family and port", "[allowlist]") {
    auto d = [](const char* t) { return *parse_destination(t, nullptr); };
    CHECK(destination_matches(d("10.0.0.0/8"), ep("10.200.1.1", 22)));
    CHECK_FALSE(destination_matches(d("10.0.0.0/8"), ep("11.0.0.1", 22)));
    CHECK(destination_matches(d("192.0.2.128/25"), ep("192.0.2.200", 1)));
    CHECK_FALSE(destination_matches(d("192.0.2.128/25"), ep("192.0.2.100", 1)));
    CHECK(destination_matches(d("192.0.2.0/24:8000-8100"), ep("192.0.2.9", 8050)));
    CHECK_FALSE(destination_matches(d("192.0.2.0/24:8000-8100"), ep("192.0.2.9", 8101)));
    CHECK(destination_matches(d("2001:db8::/32"), ep("2001:db8:ffff::1", 443)));
    CHECK_FALSE(destination_matches(d("2001:db8::/32"), ep("2001:db9::1", 443)));
    CHECK_FALSE(destination_matches(d("0.0.0.0/0"), ep("::1", 443)));
    CHECK(destination_matches(d("198.51.100.2"), ep("::ffff:198.51.100.2", 80)));  // mapped compares as IPv4
    CHECK(destination_matches(d("[::/0]:443"), ep("2001:db8::5", 443)));
}

TEST_CASE("allowlist verdicts by process name and executable glob, and LOF mutes", "[allowlist]") {
    const Allowlist a = Allowlist::parse(R"(
processes:
  curl: ["10.0.0.0/8", "192.0.2.10:443"]
  backup: [203.0.113.5]
executables:
  "/usr/lib/firefox/*": ["0.0.0.0/0:443"]
mute_lof:
  - {process: backup, destination: 203.0.113.5}
  - {executable: "/opt/agent/*"}
)", "allow.yaml");
    CHECK(a.rules().size() == 3);
    CHECK(a.rules()[0].line == 3);
    CHECK(a.check("curl", "/usr/bin/curl", ep("10.9.9.9", 80)) == AllowVerdict::Allowed);
    CHECK(a.check("curl", "/usr/bin/curl", ep("192.0.2.10", 443)) == AllowVerdict::Allowed);
    CHECK(a.check("curl", "/usr/bin/curl", ep("192.0.2.10", 80)) == AllowVerdict::Violation);
    CHECK(a.check("wget", "/usr/bin/wget", ep("192.0.2.10", 80)) == AllowVerdict::NoRules);
    CHECK(a.check("firefox-bin", "/usr/lib/firefox/firefox-bin", ep("8.8.8.8", 443)) == AllowVerdict::Allowed);
    CHECK(a.check("firefox-bin", "/usr/lib/firefox/firefox-bin", ep("8.8.8.8", 80)) == AllowVerdict::Violation);
    CHECK(a.check("x", "/usr/lib/firefox/sub/x", ep("8.8.8.8", 80)) == AllowVerdict::NoRules);  // '*' stops at '/'
    CHECK(a.lof_muted("backup", "", ep("203.0.113.5", 873)));
    CHECK_FALSE(a.lof_muted("backup", "", ep("203.0.113.6", 873)));
    CHECK(a.lof_muted("agent", "/opt/agent/agent", ep("1.1.1.1", 1)));
    Allowlist b = Allowlist::parse("processes:\n  wget: [192.0.2.10]\n", "more.yaml");
    b.merge(a);
    CHECK(b.check("wget", "", ep("192.0.2.10", 80)) == AllowVerdict::Allowed);
    CHECK(b.check("curl", "", ep("10.1.1.1", 80)) == AllowVerdict::Allowed);
}

TEST_CASE("the notebook's rules flag svchost.exe's unusual destination in synth data", "[allowlist]") {
    const Allowlist a = Allowlist::parse(test::read_text(test::source_path("configs/allowlist-notebook.yaml")),
                                         "allowlist-notebook.yaml");
    std::size_t violations = 0, no_rules = 0, allowed = 0;
    for (const SynthConnection& c : generate_notebook_connections(42, {})) {
        switch (a.check(c.process_name, "", ep(c.dst_ip.c_str(), static_cast<std::uint16_t>(c.dst_port)))) {
            case AllowVerdict::Violation: ++violations; CHECK(c.dst_ip == "198.51.100.2"); break;
            case AllowVerdict::NoRules: ++no_rules; CHECK(c.process_name == "unknown_process.exe"); break;
            case AllowVerdict::Allowed: ++allowed; break;
        }
    }
    CHECK(violations == 20);
    CHECK(no_rules == 30);
    CHECK(allowed == 2000);
}

TEST_CASE("bad allowlists name file, line, column and field", "[allowlist]") {
    Diagnostic d = allowlist_error("processes:\n  curl: [10.0.0.0/33]\n");
    CHECK(d.file == "allow.yaml");
    CHECK(d.line == 2);
    CHECK(d.column == 10);
    CHECK(d.field == "curl");
    CHECK(d.message.find("/33") != std::string::npos);
    CHECK(allowlist_error("processes:\n  curl: 10.0.0.1\n").line == 2);  // not a list
    CHECK(allowlist_error("process:\n  curl: [10.0.0.1]\n").field == "process");  // unknown key
    CHECK(allowlist_error("processes:\n  curl: [10.0.0.1]\n  curl: [10.0.0.2]\n").line == 3);  // duplicate
    CHECK(allowlist_error("processes:\n  curl: [[10.0.0.1]]\n").field == "curl");  // nested list
    CHECK(allowlist_error("mute_lof:\n  - {destination: 10.0.0.1}\n").field == "mute_lof");
    CHECK(allowlist_error("mute_lof:\n  - {process: a, executable: b}\n").field == "mute_lof");
    CHECK(allowlist_error("mute_lof:\n  - {process: a, destination: nope}\n").field == "destination");
    CHECK(allowlist_error("processes: [a, b]\n").field == "processes");
    CHECK(allowlist_error("").message.find("empty") != std::string::npos);
}

TEST_CASE("a process name pinned to its executable: anything else running under that name is a masquerade", "[allowlist]") {
    const Allowlist a = Allowlist::parse(R"(processes:
  chronyd:
    exe: /usr/sbin/chronyd
    allow: ["0.0.0.0/0:123"]
  python3: {exe: ["/usr/bin/python3.*", /opt/venv/bin/python3]}
  curl: [10.0.0.1]
)", "allow.yaml");
    CHECK(a.masquerade("chronyd", "/usr/sbin/chronyd") == nullptr);
    CHECK(a.masquerade("chronyd", "/usr/sbin/chronyd (deleted)") == nullptr);  // upgraded, still running
    const AllowRule* pin = a.masquerade("chronyd", "/tmp/chronyd");
    REQUIRE(pin != nullptr);
    CHECK(pin->pinned_exes == std::vector<std::string>{"/usr/sbin/chronyd"});
    CHECK(pin->line == 2);
    CHECK(a.masquerade("chronyd", "") != nullptr);  // an executable that cannot be named does not prove the pin
    CHECK(a.masquerade("python3", "/usr/bin/python3.11") == nullptr);
    CHECK(a.masquerade("python3", "/opt/venv/bin/python3") == nullptr);
    CHECK(a.masquerade("python3", "/usr/bin/python3.11/x") != nullptr);  // '*' stops at '/'
    CHECK(a.masquerade("curl", "/tmp/anything") == nullptr);  // the short form pins nothing
    CHECK(a.masquerade("nginx", "/tmp/anything") == nullptr);
    // The pin's allow list still judges destinations; a pin alone judges none.
    const auto ntp = *parse_endpoint("192.0.2.1", 123), web = *parse_endpoint("192.0.2.1", 443);
    CHECK(a.check("chronyd", "/usr/sbin/chronyd", ntp) == AllowVerdict::Allowed);
    CHECK(a.check("chronyd", "/usr/sbin/chronyd", web) == AllowVerdict::Violation);
    CHECK(a.check("python3", "/usr/bin/python3.11", web) == AllowVerdict::NoRules);
}

TEST_CASE("bad pins name file, line and field", "[allowlist]") {
    CHECK(allowlist_error("processes:\n  chronyd: {allow: [10.0.0.1]}\n").field == "chronyd");  // no exe
    CHECK(allowlist_error("processes:\n  chronyd: {exe: sbin/chronyd}\n").field == "exe");      // not absolute
    CHECK(allowlist_error("processes:\n  chronyd: {exe: []}\n").field == "exe");
    CHECK(allowlist_error("processes:\n  chronyd: {exe: /a, allow: 10.0.0.1}\n").field == "chronyd");  // not a list
    const Diagnostic d = allowlist_error("processes:\n  chronyd: {exe: /a, alow: [10.0.0.1]}\n");
    CHECK(d.line == 2);
    CHECK(d.field == "alow");
    CHECK(d.message.find("unknown key") != std::string::npos);
}
