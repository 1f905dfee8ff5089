#include <catch2/catch.hpp>

#include "common/diagnostic.hpp"

using namespace netlof;

TEST_CASE("the emitter prints file:line:col, the field, the line and a caret", "[diagnostic]") {
    Diagnostic d{"in.csv", 3, 5, "dst_port", "'abc' is not a number", "1,2,abc"};
    CHECK(format_diagnostic(d) == "in.csv:3:5: error: field 'dst_port': 'abc' is not a number\n1,2,abc\n    ^");
    Diagnostic whole{"m.bin", 0, 0, "", "not a netlof model", ""};
    CHECK(format_diagnostic(whole) == "m.bin: error: not a netlof model");
}

TEST_CASE("the emitter keeps binary and huge lines readable", "[diagnostic]") {
    Diagnostic d{"x", 1, 1, "", "bad", std::string(1000, 'a') + "\x01"};
    const std::string s = format_diagnostic(d);
    CHECK(s.size() < 400);
    CHECK(s.find("...") != std::string::npos);
    Diagnostic b{"x", 1, 0, "", "bad", "a\x01" "b"};
    CHECK(format_diagnostic(b).find("a?b") != std::string::npos);
}
