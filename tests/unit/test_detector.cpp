#include <algorithm>
#include <catch2/catch.hpp>
#include <fmt/core.h>
#include <fstream>
#include <random>

#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"
#include "userspace/engine/detector.hpp"
#include "userspace/outputs/falco_json.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {

// Normal traffic: each process with its own destination, port and sizes.
struct Shape {
    const char* name;
    const char* dst;
    std::uint16_t port;
    double sent, received;  // log-normal medians
};
const Shape kShapes[] = {{"nginx", "192.0.2.10", 8080, 800, 30000}, {"postgres", "192.0.2.20", 5432, 300, 5000},
                         {"apt", "192.0.2.30", 443, 500, 2000000}};

ConnectionRecord record(const char* name, const char* dst, std::uint16_t port, std::uint64_t sent, std::uint64_t received,
                        double duration) {
    ConnectionRecord r;
    r.pid = 4242;
    r.process_name = name;
    r.exe = std::string("/usr/sbin/") + name;
    r.proto = "tcp";
    r.src_ip = test::ip("10.0.0.1");
    r.src_port = 40000;
    r.dst_ip = test::ip(dst);
    r.dst_port = port;
    r.bytes_sent = sent;
    r.bytes_received = received;
    r.duration = duration;
    // One connection a second (the window detectors see time pass as on a server).
    static double clock = 1764100000;
    r.ts_start = clock;
    clock += 1;
    r.ts_end = r.ts_start + duration;
    r.outcome = Outcome::Closed;
    return r;
}

std::vector<ConnectionRecord> normal_traffic(std::size_t n, unsigned seed = 3) {
    std::mt19937 rng(seed);
    std::lognormal_distribution<double> spread(0, 0.4);
    std::vector<ConnectionRecord> out;
    for (std::size_t i = 0; i < n; ++i) {
        const Shape& s = kShapes[i % 3];
        out.push_back(record(s.name, s.dst, s.port, static_cast<std::uint64_t>(s.sent * spread(rng)),
                             static_cast<std::uint64_t>(s.received * spread(rng)), 0.05 * spread(rng)));
    }
    return out;
}

const char* kPipeline = R"(features:
  - {column: process_name, transform: onehot}
  - {column: dst_port, transform: onehot}
  - {column: bytes_sent, transform: log_standard}
  - {column: bytes_received, transform: log_standard}
  - {column: duration, transform: log_standard}
)";

LearnSettings learn(std::uint64_t records, double duration_s = 0) {
    LearnSettings s;
    s.pipeline_file = "p.yaml";
    s.pipeline = parse_pipeline_yaml(kPipeline, "p.yaml");
    s.neighbors = 20;
    s.contamination = std::nullopt;  // auto: lof > 1.5
    s.records = records;
    s.duration_s = duration_s;
    return s;
}

Allowlist rules() {
    return Allowlist::parse(R"(processes:
  nginx: ["192.0.2.10:8080"]
mute_lof:
  - {process: noisy}
)", "allow.yaml");
}

// The one alert of this rule among alerts.
const Alert& only(const std::vector<Alert>& alerts, Rule rule) {
    const Alert* found = nullptr;
    for (const Alert& a : alerts)
        if (a.rule == rule) {
            REQUIRE(found == nullptr);
            found = &a;
        }
    REQUIRE(found != nullptr);
    return *found;
}

struct Harness {
    std::vector<Alert> alerts;
    Detector detector;
    explicit Harness(LearnSettings s, double fold_window = 60) : detector(rules(), fold_window, std::move(s)) {}
    void keep(const std::vector<Alert>& out) { alerts.insert(alerts.end(), out.begin(), out.end()); }
    void feed(const std::vector<ConnectionRecord>& rs, double now) { keep(detector.judge(rs, now)); }
    void process(double now) { keep(detector.judge({}, now)); }
    void flush_folds(double now) { keep(detector.flush_folds(now)); }
};

}  // namespace

TEST_CASE("detector learns until model.learn is met, and fits what netlof train fits", "[detector]") {
    // Enough records for learning to read them in several batches, and a
    // sample with room for all of them: the sample is every record, in order.
    LearnSettings s = learn(20000);
    s.per_program = 20000;
    s.sample_rows = 100000;
    Harness h(s);
    const auto traffic = normal_traffic(20000);
    h.feed({traffic.begin(), traffic.end() - 1}, 100);
    CHECK_FALSE(h.detector.detecting());
    CHECK_FALSE(h.detector.learning_done(100));
    CHECK(h.detector.state(100) == "learning 19999/20000 records (19999 sampled)");
    h.feed({traffic.back()}, 101);
    REQUIRE(h.detector.learning_done(101));
    TrainedModel learned = h.detector.fit_learned();
    // Fitting again (as after a model that could not be written) fits the same.
    CHECK(serialize_model(h.detector.fit_learned()) == serialize_model(learned));

    // The same records through the CLI give the same model, byte for byte.
    const std::string dir = test::temp_dir("detector");
    std::string csv = record_csv_header();
    for (const auto& r : traffic) append_record_csv(csv, r);
    std::ofstream(dir + "/records.csv") << csv;
    std::ofstream(dir + "/p.yaml") << kPipeline;
    const auto r = test::run_netlof({"train", "--pipeline", dir + "/p.yaml", "--in", dir + "/records.csv", "--out",
                                     dir + "/model.bin", "--contamination", "auto"});
    REQUIRE(r.status == 0);
    TrainedModel from_cli = deserialize_model(test::read_text(dir + "/model.bin"), "model.bin");
    from_cli.pipeline_file = learned.pipeline_file;
    CHECK(serialize_model(learned) == serialize_model(from_cli));

    h.detector.use_model(std::move(learned));
    CHECK(h.detector.detecting());
    CHECK(h.detector.state(102) == "detecting");
    CHECK(h.alerts.empty());  // learning traffic was allowed and learning scores nothing
}

TEST_CASE("detector: a learned record the pipeline cannot take fails the fit, naming it", "[detector]") {
    LearnSettings s = learn(9000);
    s.per_program = 9000;  // the record is sampled
    s.sample_rows = 100000;
    Harness h(s);
    auto traffic = normal_traffic(9000);
    traffic[8500].duration = -2;  // log_standard takes values above -1: in the second batch
    h.feed(traffic, 100);
    REQUIRE(h.detector.learning_done(100));
    for (int attempt = 0; attempt < 2; ++attempt) {  // each later try fails the same way
        const Diagnostic d = test::diagnostic_of([&] { h.detector.fit_learned(); });
        CHECK(d.line == 8502);  // the header is line 1; every record sampled, in order
        CHECK(d.field == "duration");
        CHECK(d.file == "<the records sampled for the LOF>");
    }
}

TEST_CASE("detector ends learning on duration, but not before it has k + 1 records", "[detector]") {
    Harness h(learn(0, 60));
    h.feed(normal_traffic(10), 1000);
    CHECK_FALSE(h.detector.learning_done(1061));  // 10 records are too few for k = 20
    h.feed(normal_traffic(15), 1061);
    CHECK_FALSE(h.detector.learning_done(1059));
    CHECK(h.detector.learning_done(1061));
}

TEST_CASE("detector skips learning records with an empty one-hot value, and counts them", "[detector]") {
    Harness h(learn(25));
    auto traffic = normal_traffic(30);
    traffic[3].process_name = "";
    h.feed(traffic, 10);
    CHECK(h.detector.stats().learn_skipped == 1);
    CHECK(h.detector.learned_records() == 29);
}

TEST_CASE("detector alerts on violations and LOF anomalies, explains, mutes and folds", "[detector]") {
    Harness h(learn(600));
    h.feed(normal_traffic(600), 10);
    h.detector.use_model(h.detector.fit_learned());

    // Normal traffic from a fresh draw: nothing.
    h.feed(normal_traffic(30, 99), 20);
    CHECK(h.alerts.empty());
    CHECK(h.detector.stats().scored == 30);

    // An unknown process uploading 50 MB, postgres uploading 40 KB to its
    // usual host (130 times its usual), and nginx reaching a host outside its rules.
    h.feed({record("exfil", "198.51.100.7", 443, 50000000, 300, 0.1), record("postgres", "192.0.2.20", 5432, 40000, 5000, 0.05),
            record("nginx", "192.0.2.99", 8080, 800, 30000, 0.05)},
           30);
    REQUIRE(h.alerts.size() == 3);
    const Alert& lof = only(h.alerts, Rule::LofAnomaly);
    const Alert& violation = only(h.alerts, Rule::AllowlistViolation);
    const Alert& novel = only(h.alerts, Rule::NewProcess);
    CHECK(ip_text(violation.record.dst_ip) == "192.0.2.99");
    CHECK_FALSE(violation.lof.has_value());
    CHECK(violation.why == std::vector<std::string>{"allow.yaml:2 allows process nginx only 192.0.2.10:8080"});
    CHECK(novel.record.process_name == "exfil");
    CHECK(novel.priority == Priority::Notice);
    CHECK(novel.why == std::vector<std::string>{"/usr/sbin/exfil (process name 'exfil') never made a connection while learning"});
    // The new process is not LOF-scored: learning saw it fewer than k times
    // (never), so its neighbours would be other programs.
    CHECK(h.detector.stats().lof_sparse == 1);
    CHECK(lof.record.process_name == "postgres");
    CHECK(*lof.lof > *lof.threshold);
    CHECK(*lof.threshold == 1.5);
    REQUIRE_FALSE(lof.why.empty());
    INFO(lof.why[0] << " / " << lof.why.back());
    CHECK(lof.why[0].rfind("bytes_sent 40000 against a neighbour median of", 0) == 0);

    // A muted process is not scored (it is still new); the allowlist still applies to everyone.
    h.alerts.clear();
    h.feed({record("noisy", "198.51.100.7", 443, 50000000, 300, 40)}, 40);
    REQUIRE(h.alerts.size() == 1);
    CHECK(h.alerts[0].rule == Rule::NewProcess);
    CHECK(h.detector.stats().lof_muted == 1);

    // 100 identical violations: one alert now, one summary of 99 at the window's end.
    h.alerts.clear();
    // (Five seconds apart: a hundred at once would also be a connection_burst.)
    std::vector<ConnectionRecord> burst(100, record("nginx", "192.0.2.98", 8080, 800, 30000, 0.05));
    for (std::size_t i = 0; i < burst.size(); ++i) burst[i].ts_end += 5.0 * static_cast<double>(i);
    h.feed(burst, 50);
    REQUIRE(h.alerts.size() == 1);
    h.process(109);
    CHECK(h.alerts.size() == 1);
    h.process(111);
    REQUIRE(h.alerts.size() == 2);
    CHECK(h.alerts[1].count == 99);
    CHECK(h.alerts[1].why == h.alerts[0].why);  // a fold's summary explains itself too
    CHECK(h.detector.folded() == 99);

    // Folded anomalies: the summary carries its last repeat's why. And five
    // such uploads within a minute (200 KB) pass postgres's one-minute window
    // too (learning, ten minutes long, saw no ten-minute window whole: those
    // are not judged, and counted).
    h.alerts.clear();
    h.feed(std::vector<ConnectionRecord>(5, record("postgres", "192.0.2.20", 5432, 40000, 5000, 0.05)), 200);
    h.flush_folds(201);
    REQUIRE(h.alerts.size() == 3);
    CHECK(only(h.alerts, Rule::VolumeSpike).why[0].find("within 60 s") != std::string::npos);
    CHECK(h.detector.windows_unjudged() > 0);
    std::vector<Alert> anomalies;
    for (const Alert& a : h.alerts)
        if (a.rule == Rule::LofAnomaly) anomalies.push_back(a);
    REQUIRE(anomalies.size() == 2);
    CHECK(anomalies[1].count == 4);
    CHECK_FALSE(anomalies[1].why.empty());
    CHECK(anomalies[1].why == anomalies[0].why);
    CHECK(h.detector.stats().raised_of(Rule::AllowlistViolation) == 101);
    CHECK(h.detector.stats().raised_of(Rule::NewProcess) == 2);
    CHECK(h.detector.stats().raised_of(Rule::VolumeSpike) == 1);
    CHECK(h.detector.stats().alerts == 9);
}

TEST_CASE("detector: a network or port new to a program is alerted once, with what it reached while learning", "[detector]") {
    Harness h(learn(600));
    h.feed(normal_traffic(600), 10);
    h.detector.use_model(h.detector.fit_learned());
    const auto judge = [&h](ConnectionRecord r) {
        h.alerts.clear();
        h.feed({r}, 20);
        return h.alerts;
    };
    // Normal sizes, so LOF stays quiet: only novelty speaks.
    std::vector<Alert> a = judge(record("postgres", "203.0.113.5", 5432, 300, 5000, 0.05));
    REQUIRE(a.size() == 1);
    CHECK(a[0].rule == Rule::NewDestination);
    CHECK(a[0].priority == Priority::Notice);
    CHECK(a[0].why == std::vector<std::string>{"/usr/sbin/postgres (process name 'postgres') never reached 203.0.113.0/24 "
                                               "while learning; it reached 192.0.2.0/24"});
    CHECK(judge(record("postgres", "203.0.113.5", 5432, 300, 5000, 0.05)).empty());  // joined: new once
    CHECK(judge(record("postgres", "203.0.113.6", 5432, 300, 5000, 0.05)).empty());  // a known network
    a = judge(record("postgres", "192.0.2.20", 6666, 300, 5000, 0.05));  // LOF too: dst_port is one of its features
    CHECK(only(a, Rule::NewPort).why == std::vector<std::string>{"/usr/sbin/postgres (process name 'postgres') never used tcp/6666 while "
                                               "learning; it used tcp/5432"});
    ConnectionRecord udp = record("apt", "198.51.100.1", 4444, 500, 2000000, 0.05);
    udp.proto = "udp";
    a = judge(udp);
    REQUIRE(only(a, Rule::NewDestination).why.size() == 2);
    CHECK(only(a, Rule::NewDestination).why[1] == "/usr/sbin/apt (process name 'apt') never used udp/4444 while learning; it used tcp/443");
    // Its executable under another name (a multi-call binary's other applet).
    ConnectionRecord renamed = record("postgres", "192.0.2.20", 5432, 300, 5000, 0.05);
    renamed.process_name = "pg-dump-x";
    a = judge(renamed);
    CHECK(only(a, Rule::NewProcess).why ==
          std::vector<std::string>{"/usr/sbin/postgres (process name 'pg-dump-x') never ran under this name while learning; "
                                   "it ran as postgres"});
    CHECK(judge(renamed).empty());  // new once
    // nginx has rules: they judge its destinations, not novelty.
    a = judge(record("nginx", "203.0.113.9", 8080, 800, 30000, 0.05));
    REQUIRE(a.size() == 1);
    CHECK(a[0].rule == Rule::AllowlistViolation);
    CHECK(h.detector.stats().novelty_ruled == 1);
    // So does a masquerade: a postgres name on another executable says it all.
    ConnectionRecord fake = record("postgres", "198.51.100.200", 5432, 300, 5000, 0.05);
    fake.exe = "/tmp/postgres";
    a = judge(fake);
    REQUIRE(a.size() == 1);
    CHECK(a[0].rule == Rule::ProcessMasquerade);
    CHECK(h.detector.stats().novelty_ruled == 2);
    CHECK(h.detector.stats().raised_of(Rule::NewDestination) == 2);
    CHECK(h.detector.stats().raised_of(Rule::NewPort) == 1);
    CHECK(h.detector.stats().raised_of(Rule::NewProcess) == 1);
}

TEST_CASE("detector: a connection held far past the program's longest is a long_connection, whatever the allowlist says",
          "[detector]") {
    Harness h(learn(600));
    const std::vector<ConnectionRecord> learned = normal_traffic(600);
    h.feed(learned, 10);
    h.detector.use_model(h.detector.fit_learned());
    double longest = 0;
    for (const ConnectionRecord& r : learned)
        if (r.process_name == "nginx") longest = std::max(longest, r.duration);
    const auto judge = [&h](ConnectionRecord r) {
        h.alerts.clear();
        h.feed({r}, 20);
        return h.alerts;
    };
    const auto has_hold = [](const std::vector<Alert>& alerts) {
        return std::any_of(alerts.begin(), alerts.end(), [](const Alert& x) { return x.rule == Rule::LongConnection; });
    };
    // A minute past the longest learned (well under a second here) is not yet long.
    CHECK_FALSE(has_hold(judge(record("nginx", "192.0.2.10", 8080, 800, 30000, longest + 59))));
    // Allowed destination, usual sizes, held an hour: the hold alone is the finding.
    const std::vector<Alert> a = judge(record("nginx", "192.0.2.10", 8080, 800, 30000, 3600));
    const Alert& hold = only(a, Rule::LongConnection);
    CHECK(hold.priority == Priority::Notice);
    REQUIRE(hold.why.size() == 1);
    CHECK(hold.why[0] == fmt::format("/usr/sbin/nginx (process name 'nginx') held this connection 3600.0 s; its longest on tcp/8080 while "
                                     "learning was {:.3g} s, the limit {:.3g} s", longest, longest + 60));
    CHECK(h.detector.stats().raised_of(Rule::LongConnection) == 1);
    CHECK(h.detector.stats().raised_of(Rule::AllowlistViolation) == 0);
    // Reported once: that hold is the program's longest now.
    CHECK_FALSE(has_hold(judge(record("nginx", "192.0.2.10", 8080, 800, 30000, 3000))));
    CHECK(h.detector.stats().raised_of(Rule::LongConnection) == 1);
    judge(record("nginx", "192.0.2.10", 8080, 800, 30000, 36001));  // ten times that: found (and folded, same minute)
    CHECK(h.detector.stats().raised_of(Rule::LongConnection) == 2);
}

TEST_CASE("detector: steady check-ins to a destination learning never saw are beaconing; to a learned one they are not",
          "[detector]") {
    Harness h(learn(600));
    h.feed(normal_traffic(600), 10);
    h.detector.use_model(h.detector.fit_learned());
    std::vector<Alert> all;
    // postgres every 60 s (+-0.3 s) to a new address in its learned network
    // (novelty lets that join silently) and, beside it, to its learned server.
    for (int i = 0; i < 24; ++i) {
        h.alerts.clear();
        for (const char* dst : {"192.0.2.77", "192.0.2.20"}) {
            ConnectionRecord r = record("postgres", dst, 5432, 300 + i % 3, 5000, 0.05);
            r.ts_start = 1764200000 + 60.0 * i + (i % 2 ? 0.3 : -0.3);
            r.ts_end = r.ts_start + r.duration;
            h.feed({r}, r.ts_end);
        }
        all.insert(all.end(), h.alerts.begin(), h.alerts.end());
    }
    REQUIRE(all.size() == 1);
    CHECK(all[0].rule == Rule::Beaconing);
    CHECK(all[0].priority == Priority::Notice);
    CHECK(ip_text(all[0].record.dst_ip) == "192.0.2.77");
    REQUIRE(all[0].why.size() == 2);
    CHECK(all[0].why[0] == "/usr/sbin/postgres (process name 'postgres') connected to 192.0.2.77:5432 every 60.6 s (median; half "
                           "within 0 s of it), sending 301 bytes (half within 1), over its last 12 connections; learning "
                           "never saw it reach there");
    CHECK(all[0].why[1].rfind("regularity (1 - MAD/median) of intervals 1.00, of sizes 1.00", 0) == 0);
    CHECK(h.detector.stats().raised_of(Rule::Beaconing) == 1);
    CHECK(h.detector.stats().raised_of(Rule::NewDestination) == 0);
}

TEST_CASE("detector: a program that met many networks once while learning is not alerted for the next", "[detector]") {
    // A resolver-like client reaching a new network every tenth connection:
    // a new one after learning is its normal, counted and not alerted.
    auto traffic = normal_traffic(540);
    for (int i = 0; i < 60; ++i) {
        const std::string dst = "10." + std::to_string(i % 6) + "." + std::to_string(i) + ".1";
        ConnectionRecord r = record("fetcher", dst.c_str(), 443, 500, 2000, 0.05);
        traffic.insert(traffic.begin() + i * 9, r);
    }
    Harness h(learn(600));
    h.feed(traffic, 10);
    TrainedModel m = h.detector.fit_learned();
    REQUIRE(m.reach.profiles().at("/usr/sbin/fetcher").wanders_networks);
    CHECK_FALSE(m.reach.profiles().at("/usr/sbin/postgres").wanders_networks);
    h.detector.use_model(std::move(m));
    h.alerts.clear();
    h.feed({record("fetcher", "203.0.113.77", 443, 500, 2000, 0.05)}, 20);
    for (const Alert& a : h.alerts) CHECK(a.rule != Rule::NewDestination);
    CHECK(h.detector.stats().novelty_expected == 1);
    // A program that does not wander is still alerted, however many it meets.
    for (int i = 0; i < 20; ++i)
        h.feed({record("postgres", ("198.51." + std::to_string(i) + ".1").c_str(), 5432, 300, 5000, 0.05)}, 30 + i);
    CHECK(h.detector.stats().raised_of(Rule::NewDestination) == 20);
}

TEST_CASE("detector: with an alert budget the LOF threshold comes from the training scores' tail", "[detector]") {
    std::vector<ConnectionRecord> traffic = normal_traffic(2000);
    for (std::size_t i = 0; i < traffic.size(); ++i) traffic[i].ts_end = 1764100000 + 0.5 * static_cast<double>(i);  // 2 a second
    LearnSettings s = learn(2000);
    s.budget_per_day = 1;
    Harness h(s);
    h.feed(traffic, 10);
    TrainedModel m = h.detector.fit_learned();
    CHECK(m.tail.rate_per_s == Approx(2));
    CHECK(m.tail.rows == 2000);
    BudgetThreshold b;
    REQUIRE(budget_threshold(m.tail, 1, &b));
    h.detector.use_model(std::move(m));
    CHECK(h.detector.lof_threshold() == b.threshold);
    CHECK(h.detector.lof_threshold() > 1.5);
    CHECK(h.detector.lof_threshold() > b.training_max);  // never at or below the largest training score
    // Ordinary traffic from a fresh draw raises no LOF alert; 100 times
    // postgres's usual upload to its usual server does.
    h.feed(normal_traffic(600, 17), 15);
    CHECK(h.detector.stats().raised_of(Rule::LofAnomaly) == 0);
    h.feed({record("postgres", "192.0.2.20", 5432, 30000, 5000, 0.05)}, 16);
    CHECK(h.detector.stats().raised_of(Rule::LofAnomaly) == 1);
    CHECK(h.detector.threshold_note().find("alert budget of 1 a day") != std::string::npos);
    // An anomaly is judged against it, and says so.
    h.alerts.clear();
    h.feed({record("nginx", "192.0.2.10", 8080, 800000000, 30000, 0.05)}, 20);
    CHECK(*only(h.alerts, Rule::LofAnomaly).threshold == b.threshold);
    // One connection's bytes are LOF's to judge, not a window's.
    CHECK(h.detector.stats().raised_of(Rule::VolumeSpike) == 0);
    // A reload with another budget sets the threshold again; off gives the model's own.
    const double strict = h.detector.lof_threshold();
    h.detector.set_budget(500);
    CHECK(h.detector.lof_threshold() <= strict);
    CHECK(h.detector.threshold_note().find("alert budget of 500 a day") != std::string::npos);
    h.detector.set_budget(0);
    CHECK(h.detector.lof_threshold() == 1.5);
    // Off: the model's own threshold (auto: 1.5).
    LearnSettings off = learn(2000);
    Harness h2(off);
    h2.feed(traffic, 10);
    h2.detector.use_model(h2.detector.fit_learned());
    CHECK(h2.detector.lof_threshold() == 1.5);
    CHECK(h2.detector.threshold_note().find("alerts.budget is off") != std::string::npos);
}

TEST_CASE("detector: a program learned fewer than k times is not LOF-scored, and that is counted", "[detector]") {
    auto traffic = normal_traffic(600);
    for (int i = 0; i < 5; ++i)  // a job that ran five times while learning, far from everything else
        traffic.push_back(record("rarejob", "192.0.2.40", 873, 90000000, 100, 30));
    Harness h(learn(605));
    h.feed(traffic, 10);
    h.detector.use_model(h.detector.fit_learned());
    h.alerts.clear();
    h.feed({record("rarejob", "192.0.2.40", 873, 80000000, 120, 28)}, 20);  // its sixth run
    for (const Alert& a : h.alerts) CHECK(a.rule != Rule::LofAnomaly);
    CHECK(h.detector.stats().lof_sparse == 1);
    CHECK(h.detector.stats().scored == 0);
    h.feed({record("postgres", "192.0.2.20", 5432, 300, 5000, 0.05)}, 21);  // learned 200 times: scored
    CHECK(h.detector.stats().scored == 1);
}

TEST_CASE("detector refuses a model whose pipeline reads what records lack", "[detector]") {
    Harness h(learn(300));
    h.feed(normal_traffic(300), 1);
    TrainedModel m = h.detector.fit_learned();
    TrainedModel bad{{"odd.yaml", FeaturePipeline({{"timestamp", Transform::Standard, 0, 1}}, {}), std::move(m.lof), {}, {}},
                     ReachBaseline(), WindowBaseline()};
    const Diagnostic d = test::diagnostic_of([&] { h.detector.use_model(std::move(bad)); });
    CHECK(d.file == "odd.yaml");
    CHECK(d.field == "features");
    CHECK_FALSE(h.detector.detecting());
}

TEST_CASE("detector reports folds in progress when the rules are reloaded", "[detector]") {
    Harness h(learn(1000));
    std::vector<ConnectionRecord> burst(5, record("nginx", "192.0.2.98", 8080, 800, 30000, 0.05));
    h.feed(burst, 5);  // learning: the allowlist already applies
    REQUIRE(h.alerts.size() == 1);
    h.keep(h.detector.set_rules(Allowlist::parse("processes:\n  nginx: [192.0.2.98]\n", "new.yaml"), 60, 6));
    REQUIRE(h.alerts.size() == 2);
    CHECK(h.alerts[1].count == 4);
    h.feed(burst, 7);
    CHECK(h.alerts.size() == 2);  // now allowed
}

TEST_CASE("detector: a process name run by another executable than its pin, or than learning saw, is a masquerade", "[detector]") {
    Harness h(learn(300));
    h.keep(h.detector.set_rules(Allowlist::parse("processes:\n  sshd: {exe: /usr/sbin/sshd}\n", "pins.yaml"), 60, 0));
    h.feed(normal_traffic(300), 100);
    REQUIRE(h.detector.learning_done(100));
    TrainedModel m = h.detector.fit_learned();
    CHECK(m.identities.at("nginx") == std::vector<std::string>{"/usr/sbin/nginx"});
    h.detector.use_model(std::move(m));

    // Pinned: checked while learning and after.
    ConnectionRecord fake_sshd = record("sshd", "192.0.2.99", 22, 100, 100, 0.05);
    fake_sshd.exe = "/dev/shm/.x";
    // Learned: nginx ran /usr/sbin/nginx; the same name from /tmp is not nginx.
    ConnectionRecord fake_nginx = normal_traffic(1)[0];
    fake_nginx.exe = "/tmp/nginx";
    ConnectionRecord real_nginx = normal_traffic(1)[0];
    ConnectionRecord unknown_exe = normal_traffic(1)[0];
    unknown_exe.exe.clear();  // no evidence either way against a learned name
    h.feed({fake_sshd, fake_nginx, real_nginx, unknown_exe, fake_nginx}, 200);
    std::vector<Alert> masq;
    for (const Alert& a : h.alerts)
        if (a.rule == Rule::ProcessMasquerade) masq.push_back(a);
    REQUIRE(masq.size() == 2);  // the second fake nginx is folded
    CHECK(masq[0].priority == Priority::Warning);
    CHECK(masq[0].expected_exes == std::vector<std::string>{"/usr/sbin/sshd"});
    CHECK(masq[0].why.at(0) == "process name 'sshd' is pinned to /usr/sbin/sshd (pins.yaml:2); this process runs /dev/shm/.x");
    CHECK(masq[1].record.exe == "/tmp/nginx");
    CHECK(masq[1].why.at(0) == "process name 'nginx' ran only /usr/sbin/nginx while learning; this process runs /tmp/nginx");
    CHECK(h.detector.stats().raised_of(Rule::ProcessMasquerade) == 3);
    CHECK(alert_output(masq[1]).find("the name nginx belongs to /usr/sbin/nginx, not to /tmp/nginx") != std::string::npos);
}

TEST_CASE("detector follows change: a span's quiet traffic joins the baseline, what alerted does not, and what no kept "
          "span saw ages out",
          "[detector]") {
    // Spans of 600 s (the judge's clock); the baseline keeps two.
    LearnSettings s = learn(0, 600);
    s.keep_spans = 2;
    Harness h(s);
    const auto feed_span = [&](double start, const std::vector<ConnectionRecord>& rs) {
        for (std::size_t i = 0; i < rs.size(); ++i) h.feed({rs[i]}, start + 600.0 * static_cast<double>(i) / static_cast<double>(rs.size()));
    };
    const auto key = [](const char* ip, std::uint16_t port) { return reach_key(*parse_endpoint(ip, port), "tcp"); };
    // Span 1: nginx, postgres and apt.
    feed_span(0, normal_traffic(300));
    std::optional<TrainedModel> m = h.detector.model_due(600);
    REQUIRE(m);
    CHECK(h.detector.due_note() == "1 span of learning, 300 records");
    h.detector.use_model(std::move(*m));
    CHECK(h.detector.spans() == 1);
    // Span 2: postgres also uses a second server in its network (no alert)
    // and reaches a database elsewhere (new_destination, and its traffic after).
    std::vector<ConnectionRecord> two = normal_traffic(300, 5);
    for (int i = 0; i < 10; ++i) {
        two.push_back(record("postgres", "192.0.2.21", 5432, 300, 5000, 0.05));
        two.push_back(record("postgres", "198.51.100.20", 5432, 300, 5000, 0.05));
    }
    feed_span(600, two);
    CHECK(h.detector.stats().raised_of(Rule::NewDestination) == 1);
    CHECK_FALSE(h.detector.model_due(1100));  // the old model judges until the span is done
    m = h.detector.model_due(1200);
    REQUIRE(m);
    CHECK(h.detector.due_note().rfind("2 spans of learning, ", 0) == 0);
    const ReachProfile& pg = m->reach.profiles().at("/usr/sbin/postgres");
    REQUIRE(pg.destinations.count(key("192.0.2.21", 5432)) == 1);
    CHECK(pg.destinations.at(key("192.0.2.21", 5432)) > 0);           // learned
    CHECK(pg.destinations.count(key("198.51.100.20", 5432)) == 0);    // alerted: not learned
    h.detector.use_model(std::move(*m));
    CHECK(h.detector.spans() == 2);
    // Spans 3 and 4 without apt: its baseline ages out.
    std::vector<ConnectionRecord> no_apt;
    for (const ConnectionRecord& r : normal_traffic(300, 7))
        if (r.process_name != "apt") no_apt.push_back(r);
    feed_span(1200, no_apt);
    m = h.detector.model_due(1800);
    REQUIRE(m);
    h.detector.use_model(std::move(*m));
    feed_span(1800, no_apt);
    m = h.detector.model_due(2400);
    REQUIRE(m);
    h.detector.use_model(std::move(*m));
    CHECK(h.detector.spans() == 2);
    h.feed({record("apt", "192.0.2.30", 443, 500, 2000000, 0.05)}, 2402);
    CHECK(h.detector.stats().raised_of(Rule::NewProcess) == 1);
}

TEST_CASE("detector: relearn forgets the spans and learns one from now; keep 0 freezes the baseline", "[detector]") {
    LearnSettings s = learn(0, 600);
    Harness h(s);
    for (std::size_t i = 0; i < 300; ++i) h.feed({normal_traffic(1, static_cast<unsigned>(i))[0]}, 2.0 * static_cast<double>(i));
    std::optional<TrainedModel> m = h.detector.model_due(600);
    REQUIRE(m);
    h.detector.use_model(std::move(*m));
    h.detector.relearn(700);
    for (std::size_t i = 0; i < 100; ++i) h.feed({record("nginx", "192.0.2.10", 8080, 800, 30000, 0.05)}, 700 + static_cast<double>(i));
    CHECK_FALSE(h.detector.model_due(1299));
    m = h.detector.model_due(1300);
    REQUIRE(m);
    CHECK(h.detector.due_note() == "1 span of learning, 100 records");  // the first span was let go
    h.detector.use_model(std::move(*m));
    CHECK(h.detector.spans() == 1);

    LearnSettings frozen = learn(0, 600);
    frozen.keep_spans = 0;
    Harness f(frozen);
    f.feed(normal_traffic(300), 0);
    m = f.detector.model_due(600);
    REQUIRE(m);
    f.detector.use_model(std::move(*m));
    f.feed(normal_traffic(300, 9), 700);
    CHECK_FALSE(f.detector.model_due(5000));
    // Frozen, and told to learn again: one span from now, then frozen again.
    f.detector.relearn(6000);
    f.feed(normal_traffic(300, 11), 6100);
    m = f.detector.model_due(6600);
    REQUIRE(m);
    f.detector.use_model(std::move(*m));
    f.feed(normal_traffic(300, 13), 6700);
    CHECK_FALSE(f.detector.model_due(9000));
}
