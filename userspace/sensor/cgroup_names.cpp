#include "userspace/sensor/cgroup_names.hpp"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace netlof {

namespace {

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

bool is_hex64(std::string_view s) {
    if (s.size() != 64) return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
    return true;
}

// The container id a cgroup directory's name carries: "<id>" (cgroupfs
// drivers, kubepods), or "docker-<id>.scope", "cri-containerd-<id>.scope",
// "crio-<id>.scope", "libpod-<id>.scope" (systemd drivers).
std::string_view container_of(std::string_view dir) {
    if (ends_with(dir, ".scope")) dir.remove_suffix(6);
    for (std::string_view prefix : {"docker-", "cri-containerd-", "crio-", "libpod-"})
        if (dir.substr(0, prefix.size()) == prefix) {
            dir.remove_prefix(prefix.size());
            break;
        }
    return is_hex64(dir) ? dir : std::string_view();
}

}  // namespace

CgroupName name_cgroup(std::string_view path) {
    CgroupName n;
    std::size_t start = 0;
    while (start < path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        const std::string_view dir = path.substr(start, end - start);
        const std::string_view id = container_of(dir);
        if (!id.empty()) n.container_id.assign(id.substr(0, 12));
        else if (ends_with(dir, ".service") || ends_with(dir, ".scope")) n.unit.assign(dir);
        start = end + 1;
    }
    return n;
}

std::string cgroup2_root() {
    std::ifstream in("/proc/self/mountinfo");
    std::string found;
    for (std::string line; std::getline(in, line);) {
        // id parent major:minor root mount-point options [optional...] - fstype source super-options
        const std::size_t dash = line.find(" - ");
        if (dash == std::string::npos) continue;
        std::istringstream after(line.substr(dash + 3));
        std::string fstype;
        after >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream before(line.substr(0, dash));
        std::string id, parent, dev, root, mount;
        before >> id >> parent >> dev >> root >> mount;
        if (found.empty() || mount == "/sys/fs/cgroup") found = mount;
    }
    return found;
}

CgroupNames::CgroupNames(std::size_t capacity, std::string root) : capacity_(capacity), root_(std::move(root)) {}

void CgroupNames::insert(std::uint64_t id, CgroupName name) {
    auto it = names_.find(id);
    if (it != names_.end()) {
        it->second = std::move(name);
        return;
    }
    while (names_.size() >= capacity_ && !order_.empty()) {
        names_.erase(order_.front());
        order_.pop_front();
        ++evictions_;
    }
    order_.push_back(id);
    names_.emplace(id, std::move(name));
}

void CgroupNames::walk() {
    ++walks_;
    if (root_.empty()) return;
    namespace fs = std::filesystem;
    std::error_code ec;
    auto add = [&](const fs::path& dir) {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0) return;
        const auto id = static_cast<std::uint64_t>(st.st_ino);
        if (names_.count(id) != 0) return;
        std::string rel = dir.string().substr(root_.size());
        if (rel.empty()) rel = "/";
        CgroupName n = name_cgroup(rel);
        n.path = std::move(rel);
        insert(id, std::move(n));
    };
    add(root_);
    for (fs::recursive_directory_iterator it(root_, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) add(it->path());
    }
}

const CgroupName& CgroupNames::lookup(std::uint64_t id) {
    auto it = names_.find(id);
    if (it == names_.end()) {
        walk();
        it = names_.find(id);
        if (it == names_.end()) {
            insert(id, CgroupName{});  // removed before it could be named: unknown from now on
            it = names_.find(id);
        }
    }
    if (it->second.path.empty()) ++unknown_;
    return it->second;
}

}  // namespace netlof
