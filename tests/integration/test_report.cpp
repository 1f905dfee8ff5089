// `netlof report` end to end: records and the alert lines and model that
// `netlof replay` made from them, into one HTML page, opened in headless
// Chromium (tests/integration/page_check.py): every plot rendered with the
// marks the files call for, no console error, nothing fetched.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "tests/test_support.hpp"
#include "userspace/records/record_writer.hpp"

using nlohmann::json;
using namespace netlof;

namespace {

constexpr double kStart = 1764400000;

// 600 records of three services, 0.5 s apart, then a few that are not like them.
std::vector<ConnectionRecord> traffic() {
    std::vector<ConnectionRecord> out = test::service_traffic(600, kStart, 0.5, 11);
    ConnectionRecord exfil = out[301], newcomer = out[302], fake = out[303];
    exfil.dst_ip = test::ip("203.0.113.9");
    exfil.bytes_sent = 50000000;
    newcomer.process_name = "miner";
    newcomer.exe = "/tmp/miner";
    newcomer.dst_port = 3333;
    fake.exe = "/tmp/nginx";
    double after = kStart + 0.5 * 600;  // after learning's 600
    for (ConnectionRecord* r : {&exfil, &newcomer, &fake}) {
        r->ts_start = after;
        r->ts_end = after += 1;
        out.push_back(*r);
    }
    return out;
}

json check_page(const std::string& html) {
    const auto r = test::run_program({"/usr/bin/python3", test::source_path("tests/integration/page_check.py"), html});
    INFO(r.err);
    REQUIRE(r.status == 0);
    return json::parse(r.out);
}

const json* plot(const json& page, const std::string& name) {
    for (const json& p : page["plots"])
        if (p["name"] == name) return &p;
    return nullptr;
}

std::size_t lines_of(const std::string& path) {
    std::ifstream in(path);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) n += !line.empty();
    return n;
}

}  // namespace

TEST_CASE("report: one page that renders in Chromium with every plot, no errors, nothing fetched", "[report]") {
    const std::string dir = test::temp_dir("report");
    const std::vector<ConnectionRecord> records = traffic();
    std::string text;
    for (const ConnectionRecord& r : records) append_record_json(text, r);
    std::ofstream(dir + "/records.jsonl") << text;
    std::ofstream(dir + "/netlof.yaml") << "model: {path: " << dir << "/absent/model.bin, learn: {records: 600}}\n"
                                        << "alerts: {path: " << dir << "/unused.jsonl, budget: off}\n";
    const auto replay = test::run_netlof({"replay", "--config", dir + "/netlof.yaml", "--insecure-files", "--in",
                                          dir + "/records.jsonl", "--out", dir + "/alerts.jsonl", "--model-out",
                                          dir + "/model.bin"});
    INFO(replay.err);
    REQUIRE(replay.status == 0);
    const std::size_t alert_lines = lines_of(dir + "/alerts.jsonl");
    REQUIRE(alert_lines >= 3);  // the three after learning, at least

    const auto report = test::run_netlof({"report", "--records", dir + "/records.jsonl", "--alerts", dir + "/alerts.jsonl",
                                          "--model", dir + "/model.bin", "--config", dir + "/netlof.yaml",
                                          "--insecure-files", "--out", dir + "/report.html"});
    INFO(report.err);
    REQUIRE(report.status == 0);
    CHECK(report.err.find("report: 603 records, " + std::to_string(alert_lines) + " alert lines, 603 scored") !=
          std::string::npos);
    const std::string html = test::read_text(dir + "/report.html");
    CHECK(html.find("<script") == std::string::npos);  // nothing to run,
    CHECK(html.find("src=") == std::string::npos);      // nothing to fetch
    CHECK(html.find("; 4 processes</p>") != std::string::npos);

    const json page = check_page(dir + "/report.html");
    INFO(page.dump());
    CHECK(page["console"].empty());
    CHECK(page["requests"].empty());
    for (const char* h : {"Summary", "Connections per process", "Bytes per process", "LOF scores", "Alerts by kind",
                          "Top destinations per process", "Learning"})
        CHECK(std::find(page["headings"].begin(), page["headings"].end(), h) != page["headings"].end());
    for (const char* name : {"connections", "bytes", "scores", "alerts", "destinations-0", "destinations-3"}) {
        const json* p = plot(page, name);
        INFO(name);
        REQUIRE(p != nullptr);
        CHECK((*p)["width"].get<double>() > 100);
        CHECK((*p)["height"].get<double>() > 20);
        CHECK((*p)["marks"].get<int>() > 0);
        CHECK((*p)["drawn"] == (*p)["marks"]);  // every mark has a size on the page
    }
    // One line per process (nginx, postgres, apt, miner), one point per alert line.
    CHECK((*plot(page, "connections"))["marks"] == 4);
    CHECK((*plot(page, "alerts"))["marks"] == alert_lines);
    // The histogram's bars hold every record's score, and the threshold is drawn.
    const json& scores = *plot(page, "scores");
    CHECK(scores["thresholds"] == 1);
    std::size_t counted = 0;
    const std::regex bar(R"(: (\d+) records$)");
    for (const json& t : scores["titles"]) {
        std::smatch m;
        const std::string s = t.get<std::string>();
        REQUIRE(std::regex_search(s, m, bar));
        counted += std::stoul(m[1]);
    }
    CHECK(counted == 603);
    // The busiest process's destinations: nginx's one server.
    CHECK((*plot(page, "destinations-0"))["titles"][0].get<std::string>().rfind("192.0.2.10:8080/tcp: 201 conn", 0) == 0);

    // Records alone: the page says what it lacks and still renders cleanly.
    const auto bare = test::run_netlof({"report", "--records", dir + "/records.jsonl", "--out", dir + "/bare.html"});
    REQUIRE(bare.status == 0);
    const json bare_page = check_page(dir + "/bare.html");
    CHECK(bare_page["console"].empty());
    CHECK(plot(bare_page, "connections") != nullptr);
    CHECK(plot(bare_page, "scores") == nullptr);
    CHECK(plot(bare_page, "alerts") == nullptr);
    CHECK(test::read_text(dir + "/bare.html").find("no model given") != std::string::npos);
}

TEST_CASE("report: the page check sees console errors and fetches", "[report]") {
    const std::string dir = test::temp_dir("report-check");
    std::ofstream(dir + "/bad.html") << "<!DOCTYPE html><html><head><title>bad</title></head><body>"
                                        "<img src=\"missing.png\"><script>console.error('boom')</script></body></html>";
    const json page = check_page(dir + "/bad.html");
    INFO(page.dump());
    CHECK(page["console"].size() >= 2);  // the missing image and the console error
    REQUIRE(page["requests"].size() == 1);
    CHECK(page["requests"][0].get<std::string>().find("missing.png") != std::string::npos);
}

TEST_CASE("report: a bad alert file is refused with its line and field, and nothing is written", "[report]") {
    const std::string dir = test::temp_dir("report-bad");
    std::string text;
    for (const ConnectionRecord& r : traffic()) append_record_json(text, r);
    std::ofstream(dir + "/records.jsonl") << text;
    std::ofstream(dir + "/alerts.jsonl") << R"({"time":"2026-11-30T01:00:00.000000Z","rule":"new_port","priority":"Notice","output":"x"})"
                                         << "\n" << R"({"time":"yesterday","rule":"new_port","priority":"Notice","output":"x"})" << "\n";
    const auto r = test::run_netlof({"report", "--records", dir + "/records.jsonl", "--alerts", dir + "/alerts.jsonl",
                                     "--out", dir + "/report.html"});
    CHECK(r.status == 2);
    CHECK(r.err.find(dir + "/alerts.jsonl:2:") != std::string::npos);
    CHECK(r.err.find("field 'time'") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/report.html"));
}

TEST_CASE("report: an empty record log says it holds no records, and nothing is written", "[report]") {
    const std::string dir = test::temp_dir("report-empty");
    std::ofstream(dir + "/records.jsonl") << "";
    const auto r = test::run_netlof({"report", "--records", dir + "/records.jsonl", "--out", dir + "/report.html"});
    CHECK(r.status == 2);
    CHECK(r.err.find(dir + "/records.jsonl: error: no records: the file is empty") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir + "/report.html"));
}
