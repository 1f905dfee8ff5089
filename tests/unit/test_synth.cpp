// `netlof synth` data against the notebook's own generator run by numpy for
// several seeds and sizes (tests/data/synth/*.csv): every value equal.
#include <catch2/catch.hpp>
#include <filesystem>

#include "userspace/commands/synth.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

TEST_CASE("synthetic connections equal the notebook's for every seed and size", "[synth]") {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(test::source_path("tests/data/synth"))) {
        const std::string name = entry.path().stem().string();  // seed<S>_<n>_<l>_<u>
        unsigned long long seed = 0;
        SynthSizes sizes;
        REQUIRE(std::sscanf(name.c_str(), "seed%llu_%zu_%zu_%zu", &seed, &sizes.normal, &sizes.anomalous_legit,
                            &sizes.anomalous_unknown) == 4);
        INFO(entry.path());
        const TextTable expected = test::read_csv(entry.path().string());
        // Round trip through netlof's own CSV so the text parses back exactly too.
        const TextTable got = TextTable::parse(connections_to_csv(generate_notebook_connections(
                                                 static_cast<std::uint32_t>(seed), sizes)), "synth");
        REQUIRE(got.columns() == expected.columns());
        REQUIRE(got.rows() == expected.rows());
        REQUIRE(got.rows() == 4 * sizes.normal + sizes.anomalous_legit + sizes.anomalous_unknown);
        for (std::size_t r = 0; r < got.rows(); ++r) {
            for (std::size_t c = 0; c < got.columns().size(); ++c) {
                const std::string& col = got.columns()[c];
                // pandas writes integer columns as 1641.0 when a part is empty: compare values.
                if (col != "process_name" && col != "src_ip" && col != "dst_ip" && col != "timestamp") {
                    if (got.number(r, c) != expected.number(r, c))
                        FAIL("row " << r << " " << col << ": " << got.cell(r, c) << " != " << expected.cell(r, c));
                } else if (got.cell(r, c) != expected.cell(r, c)) {
                    FAIL("row " << r << " " << col << ": " << got.cell(r, c) << " != " << expected.cell(r, c));
                }
            }
        }
        ++files;
    }
    CHECK(files >= 5);
}

TEST_CASE("seed 42 ends with the notebook's printed table", "[synth]") {
    const auto rows = generate_notebook_connections(42, {});
    REQUIRE(rows.size() == 2050);
    // df.tail() as the notebook printed it (6 decimals).
    struct Printed { std::int64_t pid, src_port, dst_port; double duration, sent, received; const char* ts; };
    const Printed printed[] = {
        {3142, 61881, 9102, 8.509564, 6131.851638, 3244.091242, "06:51"},
        {3447, 60943, 30713, 3.306930, 807.715203, 1567.584315, "11:49"},
        {2024, 4797, 25956, 19.410234, 11854.694766, 14613.909998, "15:53"},
        {1848, 63360, 21511, 17.285092, 7024.754290, 21673.886764, "01:13"},
        {1622, 30822, 61262, 7.473897, 11343.226504, 3371.332004, "22:16"},
    };
    for (std::size_t i = 0; i < 5; ++i) {
        const SynthConnection& c = rows[2045 + i];
        const Printed& p = printed[i];
        CHECK(c.process_name == "unknown_process.exe");
        CHECK(c.dst_ip == "203.0.113.1");
        CHECK(c.pid == p.pid);
        CHECK(c.src_port == p.src_port);
        CHECK(c.dst_port == p.dst_port);
        CHECK(c.duration == Approx(p.duration).margin(5e-7));
        CHECK(c.bytes_sent == Approx(p.sent).margin(5e-7));
        CHECK(c.bytes_received == Approx(p.received).margin(5e-7));
        char hm[16];
        std::snprintf(hm, sizeof hm, "%02d:%02d", static_cast<int>(c.minute / 60), static_cast<int>(c.minute % 60));
        CHECK(std::string(hm) == p.ts);
    }
}
