// One entry per parser netlof feeds untrusted bytes to. Each runs one input
// through the parser and what consumes its result; InputError is the
// expected answer to bad input, anything else escaping (or a sanitizer
// report) is a bug. libFuzzer drives them (tests/fuzz/fuzz_main.cpp, `make
// fuzz`); the test suite replays every file in tests/fuzz/corpus/<name>/,
// the seeds and the crashes fuzzing found, through the same functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace netlof::fuzz {

struct Target {
    const char* name;  // also the corpus folder's name
    void (*run)(const std::uint8_t* data, std::size_t size);
};

std::span<const Target> targets();

}  // namespace netlof::fuzz
