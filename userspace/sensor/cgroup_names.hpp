// What a record's cgroup id means to an operator: the systemd unit
// ("nginx.service") or the container ("docker-<id>.scope" -> its id) the
// connecting process ran in. The kernel gives the cgroup v2 id (the cgroup
// directory's inode number); the names come from the cgroup2 hierarchy's
// directories, walked again when an id is new. Ids are never reused, so an
// id the walk does not find was a cgroup already removed: remembered as
// unknown, and counted.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace netlof {

struct CgroupName {
    std::string path;          // under the cgroup2 root, "/system.slice/nginx.service"; empty: unknown
    std::string unit;          // the innermost .service or .scope, "nginx.service"
    std::string container_id;  // docker, containerd, CRI-O or podman: the first 12 hex digits, as `docker ps`
};

// The unit and container a cgroup path names (path is left empty).
CgroupName name_cgroup(std::string_view path);

// The cgroup2 hierarchy's mount point from /proc/self/mountinfo
// (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host); empty if none.
std::string cgroup2_root();

class CgroupNames {
public:
    CgroupNames(std::size_t capacity, std::string root);
    // The name of cgroup `id`; walks the hierarchy once for an id not seen.
    const CgroupName& lookup(std::uint64_t id);
    std::uint64_t unknown() const { return unknown_; }      // lookups of ids no walk found
    std::uint64_t walks() const { return walks_; }
    std::uint64_t evictions() const { return evictions_; }

private:
    void walk();
    void insert(std::uint64_t id, CgroupName name);

    std::size_t capacity_;
    std::string root_;
    std::unordered_map<std::uint64_t, CgroupName> names_;
    std::deque<std::uint64_t> order_;
    std::uint64_t unknown_ = 0, walks_ = 0, evictions_ = 0;
};

}  // namespace netlof
