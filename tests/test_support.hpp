// Helpers shared by the tests: fixture paths, running the netlof binary, and
// the relative tolerance the LOF fixtures are held to.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "model/csv_table.hpp"
#include "model/diagnostic.hpp"

namespace netlof::test {

inline std::string source_path(const std::string& rel) { return std::string(NETLOF_SOURCE_DIR) + "/" + rel; }
std::string read_text(const std::string& path);
CsvTable read_csv(const std::string& path);
// A fresh, empty directory under /tmp for one test.
std::string temp_dir(const std::string& name);

struct RunResult {
    int status = -1;  // exit status, or 128 + signal
    std::string out, err;
};
// Runs build/netlof with args (no shell), capturing both streams.
RunResult run_netlof(const std::vector<std::string>& args);
// The same as user nobody, through setpriv (for privilege checks).
RunResult run_netlof_as_nobody(const std::vector<std::string>& args);

// The Diagnostic of the InputError fn throws; a test failure if it throws none.
template <typename Fn>
Diagnostic diagnostic_of(Fn&& fn) {
    try {
        fn();
    } catch (const InputError& e) {
        return e.diagnostic();
    }
    FAIL("no InputError was thrown");
    return {};
}

// |a - b| <= rel * max(|a|, |b|), the fixtures' tolerance.
inline bool close_rel(double a, double b, double rel = 1e-9) {
    return std::abs(a - b) <= rel * std::max(std::abs(a), std::abs(b));
}

}  // namespace netlof::test
