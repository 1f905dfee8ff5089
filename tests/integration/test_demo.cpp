// `make run`'s demo (scripts/daemon-demo.sh), as a newcomer runs it: the real
// sensor and daemon learn the demo services, alert on the four demo attacks,
// and write a report that renders in Chromium.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/test_support.hpp"

using nlohmann::json;

TEST_CASE("make run: the demo alerts on its four attacks and writes a report", "[daemon][report]") {
    const std::string dir = netlof::test::temp_dir("demo");
    const auto r = netlof::test::run_program({"/usr/bin/env", "NETLOF_RUN_SECONDS=1", "/bin/sh",
                                              netlof::test::source_path("scripts/daemon-demo.sh"), NETLOF_BINARY,
                                              NETLOF_LOADGEN, dir});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    std::set<std::string> rules;
    std::ifstream alerts(dir + "/log/alerts.jsonl");
    for (std::string line; std::getline(alerts, line);) {
        const json a = json::parse(line);
        if (a["output_fields"]["proc.name"].get<std::string>().rfind("demo-", 0) == 0) rules.insert(a["rule"]);
    }
    CHECK(rules == std::set<std::string>{"new_process", "lof_anomaly", "allowlist_violation", "process_masquerade"});
    CHECK(r.out.find("report with plots of what the sensor saw: " + dir + "/report.html") != std::string::npos);

    const auto page = netlof::test::run_program(
        {"/usr/bin/python3", netlof::test::source_path("tests/integration/page_check.py"), dir + "/report.html"});
    REQUIRE(page.status == 0);
    const json p = json::parse(page.out);
    INFO(p.dump());
    CHECK(p["console"].empty());
    CHECK(p["requests"].empty());
    std::set<std::string> plots;
    for (const json& plot : p["plots"])
        if (plot["marks"].get<int>() > 0) plots.insert(plot["name"]);
    for (const char* name : {"connections", "bytes", "scores", "alerts"}) CHECK(plots.count(name) == 1);
}
