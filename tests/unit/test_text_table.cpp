#include <catch2/catch.hpp>

#include "common/text_table.hpp"
#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

namespace {
template <typename Fn>
Diagnostic diag_of(Fn&& fn) { return test::diagnostic_of(fn); }
}  // namespace

TEST_CASE("CSV cells, quotes, CRLF and blank lines", "[csv_table]") {
    const TextTable t = TextTable::parse("a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\r\n\n2,,z\n", "t.csv");
    REQUIRE(t.columns() == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(t.rows() == 2);
    CHECK(t.cell(0, 1) == "x,y");
    CHECK(t.cell(0, 2) == "say \"hi\"");
    CHECK(t.cell(1, 1).empty());
    CHECK(t.line_of(1) == 4);
    CHECK(t.number(1, 0) == 2.0);
    CHECK(t.require_column("c", "test") == 2);
}

TEST_CASE("CSV fields written by append_csv_field parse back", "[csv_table]") {
    std::string line;
    for (const char* f : {"plain", "comma,inside", "quote\"inside", "new\nline"}) {
        append_csv_field(line, f);
        line += ',';
    }
    append_double(line, 0.1 + 0.2);
    const TextTable t = TextTable::parse("a,b,c,d,e\n" + line + "\n", "t");
    CHECK(t.cell(0, 1) == "comma,inside");
    CHECK(t.cell(0, 2) == "quote\"inside");
    CHECK(t.cell(0, 3) == "new\nline");
    CHECK(t.number(0, 4) == 0.1 + 0.2);
}

TEST_CASE("bad CSV input is reported with file, line, column and field", "[csv_table]") {
    SECTION("empty file") {
        const Diagnostic d = diag_of([] { TextTable::parse("", "empty.csv"); });
        CHECK(d.file == "empty.csv");
        CHECK(d.message.find("empty") != std::string::npos);
    }
    SECTION("blank lines only") {
        CHECK(diag_of([] { TextTable::parse("\n\n", "blank.csv"); }).message.find("empty") != std::string::npos);
    }
    SECTION("wrong number of fields") {
        const Diagnostic d = diag_of([] { TextTable::parse("a,b\n1,2\n3\n", "f.csv"); });
        CHECK(d.line == 3);
        CHECK(d.source_line == "3");
    }
    SECTION("missing column") {
        const TextTable t = TextTable::parse("a,b\n1,2\n", "m.csv");
        const Diagnostic d = diag_of([&] { t.require_column("dst_port", "pipeline p.yaml"); });
        CHECK(d.line == 1);
        CHECK(d.field == "dst_port");
    }
    SECTION("non-numeric, NaN, infinite and empty numbers") {
        const TextTable t = TextTable::parse("a,b\n1,x\n1,nan\n1,inf\n1,\n1,2abc\n", "n.csv");
        for (std::size_t r = 0; r < t.rows(); ++r) {
            const Diagnostic d = diag_of([&] { t.number(r, 1); });
            CHECK(d.file == "n.csv");
            CHECK(d.line == r + 2);
            CHECK(d.column == 3);
            CHECK(d.field == "b");
        }
    }
    SECTION("duplicate header column, unterminated quote, NUL bytes") {
        CHECK(diag_of([] { TextTable::parse("a,a\n1,2\n", "d.csv"); }).field == "a");
        CHECK(diag_of([] { TextTable::parse("a\n\"open\n", "q.csv"); }).line == 2);
        CHECK(diag_of([] { TextTable::parse(std::string("a\n1\0\n", 5), "z.csv"); }).line == 2);
    }
}
