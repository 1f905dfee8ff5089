// The offline subcommands: synth, train, score and allowlist suggest. Each returns the process
// exit status; bad input is thrown as InputError and reported by main().
#pragma once

#include <cstdint>
#include <string>

#include "userspace/commands/synth.hpp"

namespace netlof {

struct SynthCommand {
    std::uint32_t seed = 42;
    std::string out = "-";
    SynthSizes sizes;
};

struct TrainCommand {
    std::string pipeline;
    std::string in;
    std::string out;
    std::size_t neighbors = 20;
    std::string contamination = "auto";  // a fraction in (0, 0.5] or "auto": the daemon's default too
    double reach_floor = 0;             // 0: scikit-learn's LOF
    std::string labels_out;
    unsigned threads = 0;
    bool timings = false;
};

struct ScoreCommand {
    std::string model;
    std::string in;
    std::string out = "-";
    unsigned threads = 0;
    bool timings = false;
    bool explain = false;  // add a `why` column for anomalous rows
};

struct SuggestCommand {
    std::string model;
    std::string out = "-";
};

int run_synth(const SynthCommand& cmd);
int run_train(const TrainCommand& cmd);
int run_score(const ScoreCommand& cmd);
// `netlof allowlist suggest`: the model's reach baseline as an allowlist to review.
int run_allowlist_suggest(const SuggestCommand& cmd);

}  // namespace netlof
