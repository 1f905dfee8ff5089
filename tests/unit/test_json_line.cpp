#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "userspace/json_line.hpp"

using namespace netlof;

TEST_CASE("JSON lines escape quotes, controls and invalid UTF-8, and parse back", "[json_line]") {
    std::string out;
    JsonLine(out)
        .field("s", std::string_view("a\"b\\c\n\x01"))
        .field("utf8", "h\xc3\xa9llo \xe2\x82\xac")
        .field("bad", std::string_view("x\xff\xc3(y\xed\xa0\x80z"))  // stray byte, cut sequence, surrogate
        .field("u", std::uint64_t{18446744073709551615ULL})
        .field("i", std::int64_t{-5})
        .field("d", 0.1)
        .field("inf", 1.0 / 0.0)
        .raw("arr", "[1,2]")
        .end();
    REQUIRE(out.back() == '\n');
    const auto j = nlohmann::json::parse(out);
    CHECK(j["s"] == "a\"b\\c\n\x01");
    CHECK(j["utf8"] == "h\xc3\xa9llo \xe2\x82\xac");
    CHECK(j["bad"] == "x\xef\xbf\xbd\xef\xbf\xbd(y\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz");
    CHECK(j["u"] == 18446744073709551615ULL);
    CHECK(j["i"] == -5);
    CHECK(j["d"] == 0.1);
    CHECK(j["inf"].is_null());
    CHECK(j["arr"] == nlohmann::json::array({1, 2}));
}
