// NumpyRandomState against raw numpy draws (tests/data/numpy_random.csv,
// made by scripts/make_fixtures.py), in the order numpy made them.
#include <catch2/catch.hpp>
#include <map>

#include "userspace/commands/numpy_random.hpp"
#include "tests/test_support.hpp"

using namespace netlof;

TEST_CASE("numpy legacy draws are reproduced bit for bit", "[numpy_random]") {
    const TextTable t = test::read_csv(test::source_path("tests/data/numpy_random.csv"));
    REQUIRE(t.rows() > 30);
    std::map<std::uint32_t, NumpyRandomState> streams;
    for (std::size_t r = 0; r < t.rows(); ++r) {
        const auto seed = static_cast<std::uint32_t>(t.number(r, 0));
        auto& rng = streams.try_emplace(seed, seed).first->second;
        const std::string kind(t.cell(r, 1));
        const std::string expected(t.cell(r, 4));
        INFO("seed " << seed << " " << kind << " line " << t.line_of(r));
        if (kind == "randint") {
            const auto low = static_cast<std::int64_t>(t.number(r, 2));
            const auto high = std::stoll(std::string(t.cell(r, 3)));
            CHECK(std::to_string(rng.randint(low, high)) == expected);
        } else if (kind == "exponential") {
            CHECK(rng.exponential(t.number(r, 2)) == t.number(r, 4));
        } else if (kind == "random_sample") {
            CHECK(rng.next_double() == t.number(r, 4));
        } else if (kind == "choice3") {
            CHECK(std::to_string(rng.choice_index(3)) == expected);
        } else {
            FAIL("unknown kind " << kind);
        }
    }
}

TEST_CASE("randint over one value draws nothing, as numpy's choice of one element", "[numpy_random]") {
    NumpyRandomState a(7), b(7);
    CHECK(a.randint(5, 6) == 5);
    CHECK(a.choice_index(1) == 0);
    CHECK(a.next_uint32() == b.next_uint32());
    CHECK_THROWS(a.randint(3, 3));
}
