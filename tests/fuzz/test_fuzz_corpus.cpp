// Replays every fuzz corpus file (seeds and the crashes fuzzing once found)
// through its target, so `make test` (and SANITIZE=1) keeps them fixed.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "tests/fuzz/fuzz_targets.hpp"

namespace fs = std::filesystem;

TEST_CASE("every fuzz target has seeds, and every corpus file runs through its target", "[fuzz]") {
    const fs::path root = fs::path(NETLOF_SOURCE_DIR) / "tests/fuzz/corpus";
    for (const auto& target : netlof::fuzz::targets()) {
        const fs::path dir = root / target.name;
        INFO("target " << target.name);
        REQUIRE(fs::is_directory(dir));
        std::size_t files = 0;
        for (const auto& entry : fs::directory_iterator(dir)) {
            INFO("file " << entry.path());
            std::ifstream in(entry.path(), std::ios::binary);
            REQUIRE(in.is_open());
            const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            CHECK(bytes.size() == fs::file_size(entry.path()));
            target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
            ++files;
        }
        CHECK(files > 0);
    }
}
