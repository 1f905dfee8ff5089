#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/test_support.hpp"
#include "userspace/engine/alert_folder.hpp"
#include "userspace/outputs/falco_json.hpp"

using namespace netlof;
using test::violation;

TEST_CASE("a burst of identical alerts is folded into one more alert with its count", "[alerts]") {
    AlertFolder f(60);
    std::size_t written = 0;
    for (int i = 0; i < 100; ++i) written += f.admit(violation(1000 + i * 0.01));
    CHECK(written == 1);
    CHECK(f.folded() == 99);
    CHECK(f.expire(1030).empty());  // window still open
    auto s = f.expire(1061);
    REQUIRE(s.size() == 1);
    CHECK(s[0].count == 99);
    CHECK(format_alert(s[0], "h").find("\"count\":99") != std::string::npos);
    // Different destination, port or rule: separate windows.
    CHECK(f.admit(violation(2000)));
    CHECK(f.admit(violation(2000, "curl", "203.0.113.9", 80)));
    CHECK(f.admit(violation(2000, "wget")));
    CHECK_FALSE(f.admit(violation(2001)));
    // A new window after the old one ends reports the old repeats first.
    CHECK(f.admit(violation(2100)));
    auto early = f.expire(2100);
    REQUIRE(early.size() == 1);
    CHECK(early[0].count == 1);
    // Shutdown: everything pending comes out.
    CHECK_FALSE(f.admit(violation(2101)));
    CHECK(f.expire(2101, true).size() == 1);
}

TEST_CASE("a full fold table ends its oldest window early instead of losing repeats", "[alerts]") {
    AlertFolder f(60, 2);
    CHECK(f.admit(violation(1, "a")));
    CHECK_FALSE(f.admit(violation(2, "a")));
    CHECK(f.admit(violation(3, "b")));
    CHECK(f.admit(violation(4, "c")));  // evicts a's window
    CHECK(f.early_ends() == 1);
    auto s = f.expire(5);
    REQUIRE(s.size() == 1);
    CHECK(s[0].record.process_name == "a");
    CHECK(s[0].count == 1);
}
