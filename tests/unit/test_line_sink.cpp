#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diagnostic.hpp"
#include "tests/test_support.hpp"
#include "userspace/outputs/line_sink.hpp"

using namespace netlof;

TEST_CASE("the alert file is appended 0640 and follows a rename after reopen", "[alerts]") {
    const std::string dir = test::temp_dir("alerts");
    FileLineSink sink(dir + "/alerts.jsonl");
    struct stat st {};
    REQUIRE(::stat((dir + "/alerts.jsonl").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK(sink.write("one\n"));
    std::filesystem::rename(dir + "/alerts.jsonl", dir + "/alerts.jsonl.1");
    CHECK(sink.write("two\n"));  // still the renamed file, as logrotate expects until told
    CHECK(sink.reopen());
    CHECK(sink.write("three\n"));
    CHECK(test::read_text(dir + "/alerts.jsonl.1") == "one\ntwo\n");
    CHECK(test::read_text(dir + "/alerts.jsonl") == "three\n");
    CHECK(sink.failed_writes() == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("an alert log that cannot be opened is a diagnostic", "[alerts]") {
    CHECK_THROWS_AS(FileLineSink("/nonexistent-dir/alerts.jsonl"), InputError);
}

TEST_CASE("a log that cannot be written keeps a bounded backlog and counts what it loses", "[alerts]") {
    // /dev/full: every write fails with ENOSPC, as on a full disk.
    REQUIRE(::access("/dev/full", W_OK) == 0);
    FileLineSink sink("/dev/full", 64);
    CHECK_FALSE(sink.write("{\"a\":1}\n"));
    CHECK(sink.failed_writes() == 1);
    CHECK(sink.last_error() == ENOSPC);
    CHECK(sink.backlog_bytes() == 8);
    CHECK(sink.maintain() == FileLineSink::Event::Failing);  // reported once
    CHECK(sink.maintain() == FileLineSink::Event::None);
    CHECK_FALSE(sink.write(std::string(50, 'x') + "\n"));    // fits: 8 + 51 <= 64
    CHECK(sink.backlog_bytes() == 59);
    CHECK(sink.lost_lines() == 0);
    CHECK_FALSE(sink.write("{\"b\":2}\n"));                   // no room: lost, counted
    CHECK(sink.lost_lines() == 1);
    CHECK(sink.backlog_bytes() == 59);
}
