// `netlof replay`: the daemon's whole judgement (allowlists, identities,
// LOF, folding, and learning when the config's model does not exist yet)
// over recorded connections, in the order and at the times they ended,
// writing the alert lines the daemon would have written. For tuning a config
// on last week's records, and for tests and evaluations that must be
// deterministic.
#pragma once

#include <string>

namespace netlof {

struct ReplayCommand {
    std::string config;
    std::string in;               // records: JSON lines or CSV
    std::string out = "-";        // alert lines; - is stdout
    std::string model;            // a model to use instead of the config's model.path
    std::string model_out;        // where to write a model learned during the replay (never model.path)
    bool insecure_files = false;
};

// 0 when done; bad input is thrown as InputError (exit status 2 from main()).
int run_replay(const ReplayCommand& cmd);

}  // namespace netlof
