#include "userspace/sensor/exe_table.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace netlof {

namespace {
const std::string kUnknown;
}

std::uint32_t kernel_dev(std::uint64_t st_dev) {
    return static_cast<std::uint32_t>((major(st_dev) << 20) | (minor(st_dev) & 0xfffff));
}

const std::string& ExeTable::insert(const ExeId& id, std::string path) {
    auto it = paths_.find(id);
    if (it != paths_.end()) {
        it->second = std::move(path);  // the same file by another name (a hard link), or renamed
        return it->second;
    }
    while (paths_.size() >= capacity_ && !order_.empty()) {
        paths_.erase(order_.front());
        order_.pop_front();
        ++stats_.evictions;
    }
    order_.push_back(id);
    return paths_.emplace(id, std::move(path)).first->second;
}

void ExeTable::on_exec(const netlof_exec_event& e) {
    std::string path(e.path, std::min<std::size_t>(e.path_len, NETLOF_EXE_PATH_LEN));
    if (e.flags & NETLOF_EXE_TRUNCATED) {
        ++stats_.truncated;
        // The walk keeps the end of the path; /proc has all of it while the
        // process lives and still runs this file.
        std::string full;
        ExeId now;
        if (read_proc(e.tgid, full, now) && now == ExeId{e.exe_dev, e.exe_ino}) {
            ++stats_.from_proc;
            insert(now, std::move(full));
            return;
        }
        path.insert(0, "...");
    }
    if (e.flags & NETLOF_EXE_DELETED) path += " (deleted)";  // as /proc/<pid>/exe says it
    ++stats_.from_exec;
    insert(ExeId{e.exe_dev, e.exe_ino}, std::move(path));
}

bool ExeTable::read_proc(std::uint32_t pid, std::string& path, ExeId& id) const {
    char buf[PATH_MAX];
    const std::string link = proc_root_ + "/" + std::to_string(pid) + "/exe";
    const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
    if (n <= 0) return false;
    struct stat st {};
    if (::stat(link.c_str(), &st) != 0) return false;  // the file behind the link
    // Read again: an exec between the two calls would pair one file's path
    // with another's identity.
    char again[PATH_MAX];
    const ssize_t m = ::readlink(link.c_str(), again, sizeof again - 1);
    if (m != n || std::string_view(buf, static_cast<std::size_t>(n)) != std::string_view(again, static_cast<std::size_t>(m)))
        return false;
    path.assign(buf, static_cast<std::size_t>(n));
    id = ExeId{kernel_dev(st.st_dev), st.st_ino};
    return true;
}

void ExeTable::scan_running() {
    DIR* d = ::opendir(proc_root_.c_str());
    if (d == nullptr) return;
    while (const dirent* ent = ::readdir(d)) {
        char* end = nullptr;
        const unsigned long pid = std::strtoul(ent->d_name, &end, 10);
        if (end == ent->d_name || *end != '\0') continue;
        std::string path;
        ExeId id;
        if (!read_proc(static_cast<std::uint32_t>(pid), path, id)) continue;  // a kernel thread, or gone
        if (paths_.count(id) != 0) continue;  // a path the kernel sent wins
        ++stats_.from_proc;
        insert(id, std::move(path));
    }
    ::closedir(d);
}

const std::string& ExeTable::lookup(std::uint32_t tgid, const ExeId& id) {
    if (id.ino == 0) {
        ++stats_.unknown;
        return kUnknown;
    }
    auto it = paths_.find(id);
    if (it != paths_.end()) return it->second;
    ExeId now;
    if (read_proc(tgid, scratch_, now) && now == id) {
        ++stats_.from_proc;
        return insert(id, scratch_);
    }
    ++stats_.unknown;
    return kUnknown;
}

}  // namespace netlof
