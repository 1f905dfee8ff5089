// make eval's claims, checked on one shorter scenario (two hours learned, the
// shipped config otherwise): netlof detects more attack
// kinds than either baseline and raises no more false alert lines than the
// new-triple rule plus one. (The scenario's generator and the scoring are
// scripts/eval_traffic.py and scripts/eval.py, as make eval runs them.)
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"

using nlohmann::json;

TEST_CASE("eval: netlof beside the new-triple rule and IsolationForest on labelled traffic", "[eval]") {
    const std::string dir = netlof::test::temp_dir("eval");
    const auto r = netlof::test::run_program({"/usr/bin/python3", netlof::test::source_path("scripts/eval.py"), "--netlof",
                                              NETLOF_BINARY, "--workdir", dir, "--seed", "5", "--scenario", "hours", "--learn-hours", "2",
                                              "--detect-hours", "3", "--set", "learn={duration: 2h}"});
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const json s = json::parse(netlof::test::read_text(dir + "/summary.json"));
    const int kinds = s["kinds"];
    CHECK(kinds == 12);
    const int netlof = s["detected"]["netlof"], triple = s["detected"]["triple"], forest = s["detected"]["forest"];
    CHECK(netlof > triple);
    CHECK(netlof > forest);
    CHECK(s["false_alerts"]["netlof"].get<int>() <= s["false_alerts"]["triple"].get<int>() + 1);
    // Every kind novelty or identity catches by construction is caught.
    for (const char* kind : {"new_destination", "new_port", "unknown_process", "masquerade", "exfil_new_host"})
        CHECK(s["netlof_rules"].contains(kind));
    CHECK(r.out.find("false alert lines:") != std::string::npos);
}
