#include "userspace/daemon/model_store.hpp"

#include <filesystem>

#include "common/log.hpp"

namespace netlof {

std::optional<TrainedModel> load_model(const std::string& path, FileTrust trust) {
    std::error_code ec;
    const std::filesystem::path model(path);
    const std::string stale_prefix = model.filename().string() + ".tmp.";
    for (const auto& e : std::filesystem::directory_iterator(model.parent_path().empty() ? "." : model.parent_path(), ec))
        if (e.path().filename().string().rfind(stale_prefix, 0) == 0 && std::filesystem::remove(e.path(), ec))
            log_line(LogLevel::Warning, "removed " + e.path().string() + ", left by a model write that did not finish");
    if (!std::filesystem::exists(path, ec)) return std::nullopt;
    return deserialize_model(read_trusted_file(path, trust, kMaxModelBytes), path);
}

void save_model(const std::string& path, const TrainedModel& model) {
    const std::string bytes = serialize_model(model);
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    write_output_file(path, bytes, 0600);
}

}  // namespace netlof
