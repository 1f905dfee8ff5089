// A records file read a part at a time gives the rows, cells and line numbers
// the whole file gives, for CSV (quoted newlines, escapes, blank lines) and
// JSON lines (a key first seen late); errors name the file's line.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "common/diagnostic.hpp"
#include "common/table_chunks.hpp"
#include "tests/test_support.hpp"
#include "userspace/records/record_writer.hpp"

using namespace netlof;

namespace {

std::string write_file(const std::string& name, const std::string& text) {
    const std::string path = test::temp_dir("chunks") + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

// Every part's rows, as (line, column -> cell) in order.
struct Row {
    std::size_t line;
    std::map<std::string, std::string> cells;
    bool operator==(const Row&) const = default;
};

std::vector<Row> rows_of(const TextTable& t) {
    std::vector<Row> out;
    for (std::size_t r = 0; r < t.rows(); ++r) {
        Row row{t.line_of(r), {}};
        for (std::size_t c = 0; c < t.columns().size(); ++c)
            if (!t.cell(r, c).empty()) row.cells[t.columns()[c]] = std::string(t.cell(r, c));
        out.push_back(std::move(row));
    }
    return out;
}

std::vector<Row> rows_in_parts(const std::string& path, std::size_t chunk_bytes, std::size_t* parts = nullptr) {
    TableChunks chunks(path, chunk_bytes);
    std::vector<Row> out;
    std::size_t n = 0;
    while (std::optional<TextTable> t = chunks.next()) {
        for (Row& r : rows_of(*t)) out.push_back(std::move(r));
        ++n;
    }
    if (parts != nullptr) *parts = n;
    return out;
}

Diagnostic refusal(const std::string& path, std::size_t chunk_bytes) {
    return test::diagnostic_of([&] { rows_in_parts(path, chunk_bytes); });
}

}  // namespace

TEST_CASE("table chunks: CSV in small parts reads as the whole file", "[unit][table_chunks]") {
    std::string text = "\n\nname,note,value\n";
    for (int i = 0; i < 300; ++i) {
        text += "p" + std::to_string(i) + ",";
        if (i % 7 == 0) text += "\"two\nlines, \"\"quoted\"\"\"";
        else if (i % 5 == 0) text += "\"plain quoted\"";
        else text += "n" + std::to_string(i);
        text += "," + std::to_string(i * 1.5) + (i % 11 == 0 ? "\r\n" : "\n");
        if (i % 13 == 0) text += "\n";  // blank lines count as lines
    }
    const std::string path = write_file("t.csv", text);
    const std::vector<Row> whole = rows_of(TextTable::parse(text, path));
    REQUIRE(whole.size() == 300);
    for (std::size_t bytes : {1, 17, 64, 1000, 1 << 20}) {
        std::size_t parts = 0;
        INFO("part size " << bytes);
        CHECK(rows_in_parts(path, bytes, &parts) == whole);
        if (bytes <= 1000) CHECK(parts > 1);
    }
}

TEST_CASE("table chunks: JSON lines in small parts, a key first seen late", "[unit][table_chunks]") {
    std::string text;
    for (int i = 0; i < 200; ++i) {
        ConnectionRecord r;
        r.ts_end = 1700000000 + i;
        r.process_name = i % 2 ? "curl" : "a \"quoted\" name";
        r.dst_ip = test::ip("192.0.2.1");
        r.dst_port = static_cast<std::uint16_t>(i);
        r.outcome = i == 150 ? Outcome::Refused : Outcome::Closed;
        r.error = i == 150 ? 111 : 0;  // the only line with an "error" key
        append_record_json(text, r);
        if (i % 17 == 0) text += "\n";
    }
    const std::string path = write_file("t.jsonl", text);
    const std::vector<Row> whole = rows_of(TextTable::parse_jsonl(text, path));
    REQUIRE(whole.size() == 200);
    CHECK(whole[150].cells.count("error") == 1);
    for (std::size_t bytes : {1, 100, 5000, 1 << 20}) {
        INFO("part size " << bytes);
        CHECK(rows_in_parts(path, bytes) == whole);
    }
}

TEST_CASE("table chunks: a bad row in a later part is refused with the file's line", "[unit][table_chunks]") {
    std::string csv = "a,b\n";
    for (int i = 0; i < 100; ++i) csv += std::to_string(i) + ",x\n";
    csv += "1,2,3\n";  // line 102
    Diagnostic d = refusal(write_file("bad.csv", csv), 50);
    CHECK(d.line == 102);
    CHECK(d.message.find("expected 2 fields") != std::string::npos);

    std::string jsonl;
    for (int i = 0; i < 100; ++i) jsonl += R"({"a":1})" "\n";
    jsonl += "{\"a\":[1]}\n";  // line 101
    d = refusal(write_file("bad.jsonl", jsonl), 50);
    CHECK(d.line == 101);
    CHECK(d.field == "a");

    // Nothing to read is refused as the whole file would be.
    CHECK(refusal(write_file("empty.csv", ""), 50).message.find("empty file") != std::string::npos);
    CHECK(refusal(write_file("blank.csv", "\n\n\n"), 50).message.find("empty file") != std::string::npos);
}
