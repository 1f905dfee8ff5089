// `netlof run`: the daemon. Capture -> Detector -> alert output (and record
// log), with learning, reloads, log reopening and a clean stop on signals.
#pragma once

#include <string>

namespace netlof {

struct RunCommand {
    std::string config;
    bool verbose = false;         // libbpf's debug output
    bool insecure_files = false;  // accept config, allowlist, pipeline and model files others could write
};

// Returns the exit status: 0 after SIGTERM/SIGINT, 2 for bad config or a
// sensor that cannot start (thrown as InputError and reported by main()).
int run_daemon(const RunCommand& cmd);

}  // namespace netlof
