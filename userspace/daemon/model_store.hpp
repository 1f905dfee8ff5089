// The daemon's model on disk: read at start when it is there, written once
// learning ends, always whole (a write killed midway leaves only a temporary
// file, removed at the next start).
#pragma once

#include <optional>
#include <string>

#include "common/file_io.hpp"
#include "userspace/engine/trained_model.hpp"

namespace netlof {

// The model at path, or nullopt when there is none (learning starts).
// A model that is there but unreadable throws InputError: refusing to start
// beats silently learning over the operator's model.
std::optional<TrainedModel> load_model(const std::string& path, FileTrust trust);
// Writes it atomically (mode 0600), creating its folder.
void save_model(const std::string& path, const TrainedModel& model);

}  // namespace netlof
