#include <catch2/catch.hpp>
#include <netinet/in.h>

#include "common/text_table.hpp"
#include "rules/reach_baseline.hpp"

using namespace netlof;

namespace {

ReachKey key(const char* ip, std::uint16_t port, const char* proto = "tcp") {
    return reach_key(*parse_endpoint(ip, port), proto);
}

}  // namespace

TEST_CASE("reach baseline: new executables, networks and ports are new once; a new address in a known network is not",
          "[reach]") {
    ReachBaseline b;
    for (int i = 0; i < 50; ++i) b.learn("/usr/bin/app", "app", key("192.0.2.10", 5432));
    b.learn("/usr/bin/app", "app", key("2001:db8:1:2::5", 443));
    b.index();
    CHECK(b.profiles().at("/usr/bin/app").networks.size() == 2);

    Novelty n = b.observe("/usr/bin/app", "app", key("192.0.2.10", 5432));
    CHECK_FALSE((n.new_subject || n.new_network || n.new_port));
    n = b.observe("/usr/bin/app", "app", key("192.0.2.200", 5432));  // same /24
    CHECK_FALSE((n.new_network || n.new_port));
    n = b.observe("/usr/bin/app", "app", key("2001:db8:1:2:ffff::1", 443));  // same /64
    CHECK_FALSE((n.new_network || n.new_port));
    n = b.observe("/usr/bin/app", "app", key("2001:db8:1:3::5", 443));  // another /64
    CHECK(n.new_network);
    CHECK_FALSE(n.new_port);
    n = b.observe("/usr/bin/app", "app", key("192.0.3.10", 5432));
    CHECK(n.new_network);
    CHECK_FALSE(b.observe("/usr/bin/app", "app", key("192.0.3.10", 5432)).new_network);  // joined
    n = b.observe("/usr/bin/app", "app", key("192.0.2.10", 5432, "udp"));  // the protocol is part of the port
    CHECK(n.new_port);
    CHECK_FALSE(n.new_network);
    n = b.observe("/usr/bin/other", "other", key("192.0.2.10", 5432));
    CHECK(n.new_subject);
    // IPv4-mapped addresses are IPv4.
    CHECK(key("::ffff:192.0.2.10", 5432) == key("192.0.2.10", 5432));
    CHECK(network_text(key("192.0.2.77", 1)) == "192.0.2.0/24");
    CHECK(network_text(key("2001:db8:1:2:3::4", 1)) == "2001:db8:1:2::/64");
    CHECK(destination_text(key("2001:db8::1", 53)) == "[2001:db8::1]:53");
    CHECK(port_text(key("192.0.2.1", 53, "udp")) == "udp/53");
}

TEST_CASE("reach baseline: wandering is what learning saw, at least two networks met once and 1% of connections",
          "[reach]") {
    ReachBaseline b;
    // 300 connections, 3 of them to networks met once: 1%.
    for (int i = 0; i < 297; ++i) b.learn("/w", "w", key("192.0.2.1", 443));
    for (int i = 0; i < 3; ++i) b.learn("/w", "w", key(("198.51." + std::to_string(i) + ".1").c_str(), 443));
    // 301 connections with 3 such: below 1%.
    for (int i = 0; i < 298; ++i) b.learn("/s", "s", key("192.0.2.1", 443));
    for (int i = 0; i < 3; ++i) b.learn("/s", "s", key(("198.51." + std::to_string(i) + ".1").c_str(), 443));
    // One connection, one network: 100%, but too little evidence.
    b.learn("/few", "few", key("192.0.2.1", 443));
    b.index();
    CHECK(b.profiles().at("/w").wanders_networks);
    CHECK_FALSE(b.profiles().at("/w").wanders_ports);
    CHECK_FALSE(b.profiles().at("/s").wanders_networks);
    CHECK_FALSE(b.profiles().at("/few").wanders_networks);
    Novelty n = b.observe("/w", "w", key("203.0.113.1", 443));
    CHECK(n.expected_network);
    CHECK_FALSE(n.new_network);
    // After learning, however many new networks a program meets, it does not start to wander.
    for (int i = 0; i < 100; ++i)
        CHECK(b.observe("/s", "s", key(("10.0." + std::to_string(i) + ".1").c_str(), 443)).new_network);
}

TEST_CASE("reach baseline: a connection held ten times longer than any learned, and a minute more, is a long hold",
          "[reach]") {
    ReachBaseline b;
    for (int i = 0; i < 50; ++i) b.learn("/usr/bin/app", "app", key("192.0.2.10", 5432), 0.01 * i);  // at most 0.49 s
    b.learn("/usr/bin/batch", "batch", key("192.0.2.11", 443), 120);
    b.index();
    CHECK(hold_limit(0.49) == Approx(60.49));
    CHECK(hold_limit(120) == 1200);
    Novelty n = b.observe("/usr/bin/app", "app", key("192.0.2.10", 5432), 60.4);
    CHECK_FALSE(n.long_hold);
    n = b.observe("/usr/bin/app", "app", key("192.0.2.10", 5432), 3600);
    CHECK(n.long_hold);
    CHECK(n.longest == Approx(0.49));
    CHECK(b.profiles().at("/usr/bin/app").longest == 3600);  // reported once: it is the longest now
    CHECK_FALSE(b.observe("/usr/bin/app", "app", key("192.0.2.10", 5432), 3000).long_hold);
    CHECK_FALSE(b.observe("/usr/bin/batch", "batch", key("192.0.2.11", 443), 1100).long_hold);
    CHECK(b.observe("/usr/bin/batch", "batch", key("192.0.2.11", 443), 1300).long_hold);
    // A program learning never saw has no measure: novelty speaks for it.
    n = b.observe("/tmp/x", "x", key("192.0.2.10", 5432), 86400);
    CHECK(n.new_subject);
    CHECK_FALSE(n.long_hold);
    CHECK_FALSE(b.observe("/tmp/x", "x", key("192.0.2.10", 5432), 86400 * 2).long_hold);
}

TEST_CASE("reach baseline: a learned executable under a name it never ran as is new once, unless its names wander",
          "[reach]") {
    ReachBaseline b;
    for (int i = 0; i < 200; ++i) b.learn("/bin/busybox", i % 2 ? "wget" : "ntpd", key("192.0.2.10", 80));
    // A tool that names itself per job: 3 of 300 connections under a name met once.
    for (int i = 0; i < 297; ++i) b.learn("/usr/bin/runner", "runner", key("192.0.2.11", 443));
    for (int i = 0; i < 3; ++i) b.learn("/usr/bin/runner", "job-" + std::to_string(i), key("192.0.2.11", 443));
    b.index();
    CHECK(b.profiles().at("/usr/bin/runner").names_once == 3);
    CHECK(b.profiles().at("/usr/bin/runner").wanders_names);
    CHECK_FALSE(b.profiles().at("/bin/busybox").wanders_names);
    Novelty n = b.observe("/bin/busybox", "nc", key("192.0.2.10", 80));
    CHECK(n.new_name);
    CHECK_FALSE(n.new_subject);
    CHECK_FALSE(b.observe("/bin/busybox", "nc", key("192.0.2.10", 80)).new_name);  // joined: new once
    CHECK_FALSE(b.observe("/bin/busybox", "wget", key("192.0.2.10", 80)).new_name);
    n = b.observe("/usr/bin/runner", "job-77", key("192.0.2.11", 443));
    CHECK_FALSE(n.new_name);
    CHECK(n.expected_name);
    // Sixteen names are all a profile keeps: past that a name cannot be told new.
    ReachBaseline full;
    for (int i = 0; i < 17 * 20; ++i) full.learn("/x", "n" + std::to_string(i % 17), key("192.0.2.12", 1));
    full.index();
    CHECK(full.profiles().at("/x").names.size() == 16);
    CHECK(full.profiles().at("/x").wanders_names);
}

TEST_CASE("reach baseline: bounded; what does not fit is counted and still reported", "[reach]") {
    ReachBaseline b(3);
    b.learn("/a", "a", key("192.0.2.1", 1));
    b.learn("/a", "a", key("192.0.2.1", 2));
    b.index();
    CHECK(b.observe("/a", "a", key("192.0.3.1", 1)).new_network);  // the third: kept
    Novelty n = b.observe("/a", "a", key("192.0.4.1", 1));
    CHECK(n.new_network);
    CHECK(n.unlearned);
    CHECK(b.observe("/a", "a", key("192.0.4.1", 1)).new_network);  // not kept: new again
    CHECK(b.observe("/b", "b", key("192.0.2.1", 1)).new_subject);
    CHECK(b.unlearned() == 3);
    CHECK(b.destinations() == 3);
}

TEST_CASE("reach baseline is learned from records; unknown executables by name", "[reach]") {
    const TextTable t = TextTable::parse("process_name,exe,dst_ip,dst_port,proto\n"
                                       "curl,/usr/bin/curl,192.0.2.1,443,tcp\n"
                                       "curl,/usr/bin/curl (deleted),192.0.2.1,443,tcp\n"
                                       "dig,,192.0.2.53,53,udp\n"
                                       "bad,/x,not-an-ip,1,tcp\n",
                                       "r.csv");
    const ReachBaseline b = learn_reach(t);
    REQUIRE(b.profiles().size() == 2);
    CHECK(b.profiles().at("/usr/bin/curl").learned_connections == 2);
    CHECK(b.profiles().at("/usr/bin/curl").destinations.at(key("192.0.2.1", 443)) == 2);
    CHECK(b.profiles().at("name:dig").names == std::vector<std::string>{"dig"});
    CHECK(b.profiles().at("name:dig").destinations.begin()->first.proto == IPPROTO_UDP);
    CHECK(learn_reach(TextTable::parse("process_name,bytes_sent\nx,1\n", "n.csv")).profiles().empty());
    const ReachBaseline held = learn_reach(TextTable::parse("process_name,exe,dst_ip,dst_port,duration\n"
                                                           "a,/a,192.0.2.1,1,0.25\na,/a,192.0.2.1,1,12.5\na,/a,192.0.2.1,1,x\n",
                                                           "d.csv"));
    CHECK(held.profiles().at("/a").longest == 12.5);
}

TEST_CASE("allowlist suggest: the learned baseline as rules that allow what was learned and nothing else", "[reach]") {
    ReachBaseline b;
    for (int i = 0; i < 20; ++i) b.learn("/usr/sbin/postgres", "postgres", key("192.0.2.20", 5432));
    b.learn("/usr/sbin/postgres", "postgres", key("2001:db8::20", 5432));
    b.learn("/opt/odd name [1]/run", "odd: #name", key("192.0.2.30", 80));
    b.learn("name:dig", "dig", key("192.0.2.53", 53, "udp"));
    for (int i = 0; i < 100; ++i)  // a fetcher that wanders: any address on its port
        b.learn("/usr/bin/fetch", "fetch", key(("10.0." + std::to_string(i) + ".1").c_str(), 443));
    b.index();
    const std::string yaml = suggest_allowlist(b, "model.bin");
    INFO(yaml);
    const Allowlist a = Allowlist::parse(yaml, "suggested.yaml");
    const auto verdict = [&a](const char* name, const char* exe, const char* ip, std::uint16_t port) {
        return a.check(name, exe, *parse_endpoint(ip, port));
    };
    CHECK(verdict("postgres", "/usr/sbin/postgres", "192.0.2.20", 5432) == AllowVerdict::Allowed);
    CHECK(verdict("postgres", "/usr/sbin/postgres", "2001:db8::20", 5432) == AllowVerdict::Allowed);
    CHECK(verdict("postgres", "/usr/sbin/postgres", "192.0.2.21", 5432) == AllowVerdict::Violation);
    CHECK(verdict("postgres", "/usr/sbin/postgres", "192.0.2.20", 5433) == AllowVerdict::Violation);
    CHECK(a.masquerade("postgres", "/tmp/postgres") != nullptr);  // pinned to what it ran
    CHECK(a.masquerade("odd: #name", "/opt/odd name [1]/run") == nullptr);  // a path with glob characters, literally
    CHECK(a.masquerade("odd: #name", "/opt/odd name 1/run") != nullptr);
    CHECK(verdict("odd: #name", "/opt/odd name [1]/run", "192.0.2.30", 80) == AllowVerdict::Allowed);
    CHECK(verdict("dig", "", "192.0.2.53", 53) == AllowVerdict::Allowed);
    CHECK(a.masquerade("dig", "/anything") == nullptr);  // its executable was unknown: not pinned
    CHECK(verdict("fetch", "/usr/bin/fetch", "203.0.113.9", 443) == AllowVerdict::Allowed);
    CHECK(verdict("fetch", "/usr/bin/fetch", "203.0.113.9", 80) == AllowVerdict::Violation);
    CHECK(yaml.find("any address on its ports") != std::string::npos);
    CHECK(yaml.find("Review every entry") != std::string::npos);
}

TEST_CASE("reach baseline: a pool client replacing servers at its learned rate is its normal; faster is new", "[reach]") {
    // A day of an NTP client: four servers polled every 1,024 s, one replaced every six hours.
    ReachBaseline b;
    const double t0 = 1764547200;
    for (int slot = 0; slot < 4; ++slot)
        for (double t = t0 + slot * 100; t < t0 + 86400; t += 1024) {
            const int s = slot * 50 + static_cast<int>((t - t0) / (6 * 3600));  // a new server every 6 h in each slot
            b.learn("/usr/sbin/chronyd", "chronyd", key(("198.18." + std::to_string(s) + ".1").c_str(), 123, "udp"), 0.02, t, 48);
        }
    // An app that only ever reached its one API.
    for (int i = 0; i < 500; ++i) b.learn("/usr/bin/app", "app", key("192.0.2.10", 443), 0.05, t0 + i * 170.0, 2600);
    b.index();
    const ReachProfile& ntp = b.profiles().at("/usr/sbin/chronyd");
    CHECK_FALSE(ntp.wanders_networks);  // each server was met many times
    CHECK(ntp.late_networks == 12);     // three replacements in each of four slots
    CHECK(replace_allowance_per_day(ntp) == 24);
    CHECK(replace_allowance_per_day(b.profiles().at("/usr/bin/app")) == 0);
    // The next day: its replacements are expected, counted as such...
    const double day2 = t0 + 86400;
    int expected = 0, alerted = 0;
    for (int i = 0; i < 24; ++i) {
        const Novelty n = b.observe("/usr/sbin/chronyd", "chronyd", key(("198.19." + std::to_string(i) + ".1").c_str(), 123, "udp"),
                                    0.02, day2 + i * 3600);
        expected += n.replaced_network && n.expected_network;
        alerted += n.new_network;
    }
    CHECK(expected == 24);
    CHECK(alerted == 0);
    // ...but a burst of new networks beyond its day's allowance is not.
    for (int i = 0; i < 30; ++i)
        alerted += b.observe("/usr/sbin/chronyd", "chronyd", key(("198.20." + std::to_string(i) + ".1").c_str(), 123, "udp"),
                             0.02, day2 + 86400 + i)
                       .new_network;
    CHECK(alerted >= 5);
    // The app's one new network is new.
    CHECK(b.observe("/usr/bin/app", "app", key("203.0.113.5", 443), 0.05, day2).new_network);
}

TEST_CASE("reach baseline: a program's regular check-ins are learned as its cadences, and merged spans keep them", "[reach]") {
    ReachBaseline b;
    const double t0 = 1764547200;
    for (int i = 0; i < 60; ++i) b.learn("/usr/sbin/chronyd", "chronyd", key("198.18.0.1", 123, "udp"), 0.02, t0 + i * 1024.0, 48);
    b.index();
    const ReachProfile& p = b.profiles().at("/usr/sbin/chronyd");
    REQUIRE(p.cadences.size() == 1);
    CHECK(p.cadences[0].first == Approx(1024));
    CHECK(p.cadences[0].second == 48);
    CHECK(matches_cadence(p, 1000, 48));
    CHECK_FALSE(matches_cadence(p, 300, 48));    // another interval
    CHECK_FALSE(matches_cadence(p, 1024, 4000));  // another size
    ReachBaseline merged;
    merged.merge(b);
    merged.merge(b);
    merged.index();
    CHECK(merged.profiles().at("/usr/sbin/chronyd").cadences.size() == 1);
    CHECK(merged.profiles().at("/usr/sbin/chronyd").learned_connections == 120);
}
