// Catch2 main for every netlof test. After Catch2's own report it prints one
// line, "N passed, N failed" (test cases), which `make test` ends with.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <iostream>

namespace {

struct CaseCounter : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;
    static inline std::size_t passed = 0, failed = 0;
    void testCaseEnded(const Catch::TestCaseStats& stats) override {
        (stats.totals.assertions.failed > 0 ? failed : passed) += 1;
    }
};
CATCH_REGISTER_LISTENER(CaseCounter)

}  // namespace

int main(int argc, char** argv) {
    Catch::Session session;
    const int rc = session.run(argc, argv);
    std::cout << CaseCounter::passed << " passed, " << CaseCounter::failed << " failed" << std::endl;
    return rc == 0 && CaseCounter::failed == 0 ? 0 : 1;
}
