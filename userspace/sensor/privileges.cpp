#include "userspace/sensor/privileges.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/core.h>
#include <stdexcept>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <vector>

namespace netlof {

namespace {

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("failed to drop capabilities: " + what + ": " + std::strerror(errno));
}

std::string cap_name(cap_value_t c) {
    char* n = cap_to_name(c);
    std::string s = n ? n : fmt::format("cap_{}", c);
    cap_free(n);
    return s;
}

}  // namespace

std::string drop_privileges() {
    // Kept only if held now: a unit's bounding set may already lack it.
    std::vector<cap_value_t> keep;
    if (cap_t now = cap_get_proc()) {
        cap_flag_value_t v = CAP_CLEAR;
        if (cap_get_flag(now, CAP_SYS_PTRACE, CAP_PERMITTED, &v) == 0 && v == CAP_SET) keep.push_back(CAP_SYS_PTRACE);
        cap_free(now);
    }
    auto kept = [&](cap_value_t c) { return std::find(keep.begin(), keep.end(), c) != keep.end(); };
    // The bounding set first, while CAP_SETPCAP is still held: nothing this
    // process could ever exec regains what is dropped here.
    // cap_max_bits(): what the running kernel has, which may exceed the headers.
    for (cap_value_t c = 0; c < static_cast<cap_value_t>(cap_max_bits()); ++c)
        if (!kept(c) && cap_get_bound(c) == 1 && cap_drop_bound(c) != 0) fail("bounding set " + cap_name(c));
    if (cap_reset_ambient() != 0 && errno != EINVAL) fail("ambient set");

    cap_t caps = cap_init();  // every flag clear
    if (!caps) fail("cap_init");
    const int n = static_cast<int>(keep.size());
    const bool ok = (n == 0 || (cap_set_flag(caps, CAP_PERMITTED, n, keep.data(), CAP_SET) == 0 &&
                                cap_set_flag(caps, CAP_EFFECTIVE, n, keep.data(), CAP_SET) == 0)) &&
                    cap_set_proc(caps) == 0;
    const int err = errno;
    cap_free(caps);
    errno = err;
    if (!ok) fail("cap_set_proc");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("no_new_privs");

    std::string names;
    for (cap_value_t k : keep) names += (names.empty() ? "" : ", ") + cap_name(k);
    return names.empty() ? "none (CAP_SYS_PTRACE was not held: executables of other users' processes read as unknown)"
                         : names;
}

}  // namespace netlof
