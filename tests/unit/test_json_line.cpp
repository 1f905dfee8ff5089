#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/json_line.hpp"

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

// Strings are scanned 8 bytes at a time: a byte to escape at any position of
// a word, or in the tail past the last whole word, is still found, and the
// printable neighbours of the special bytes are copied as they are.
TEST_CASE("JSON strings find every byte to escape at every position", "[json_line]") {
    const std::string printable = " !#$%&'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~\x7f";
    std::string plain;
    append_json_string(plain, printable);
    CHECK(plain == "\"" + printable + "\"");
    const std::vector<std::pair<std::string, std::string>> specials = {
        {"\"", "\""}, {"\\", "\\"}, {std::string(1, '\0'), std::string(1, '\0')}, {"\x1f", "\x1f"}, {"\n", "\n"},
        {"\xc3\xa9", "\xc3\xa9"}, {"\xff", "\xef\xbf\xbd"}};
    for (std::size_t len : {1, 7, 8, 9, 16, 23, 24}) {
        for (std::size_t pos = 0; pos < len; ++pos) {
            for (const auto& [in, decoded] : specials) {
                std::string s(len, 'a'), want(len, 'a');
                s.replace(pos, 1, in);
                want.replace(pos, 1, decoded);
                std::string out;
                append_json_string(out, s);
                INFO("length " << len << ", position " << pos << ", byte " << int(static_cast<unsigned char>(in[0])));
                CHECK(nlohmann::json::parse(out).get<std::string>() == want);
            }
        }
    }
}
