// libFuzzer entry point: built once per target with -DNETLOF_FUZZ_TARGET="name".
#include <cstdlib>
#include <cstring>
#include <fmt/core.h>

#include "tests/fuzz/fuzz_targets.hpp"

namespace {
const netlof::fuzz::Target& selected() {
    for (const auto& t : netlof::fuzz::targets())
        if (std::strcmp(t.name, NETLOF_FUZZ_TARGET) == 0) return t;
    fmt::print(stderr, "no fuzz target named {}\n", NETLOF_FUZZ_TARGET);
    std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const netlof::fuzz::Target& target = selected();
    target.run(data, size);
    return 0;
}
