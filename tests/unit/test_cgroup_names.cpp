#include <catch2/catch.hpp>
#include <filesystem>
#include <sys/stat.h>

#include "tests/test_support.hpp"
#include "userspace/sensor/cgroup_names.hpp"

using namespace netlof;

namespace {
const std::string kId = "4c5b1d2e3f40516273849aabbccddeeff00112233445566778899aabbccddeef";

std::uint64_t inode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return st.st_ino;
}
}  // namespace

TEST_CASE("cgroup paths name their systemd unit and container", "[cgroup_names]") {
    CgroupName n = name_cgroup("/system.slice/nginx.service");
    CHECK(n.unit == "nginx.service");
    CHECK(n.container_id.empty());
    CHECK(name_cgroup("/user.slice/user-1000.slice/session-3.scope").unit == "session-3.scope");
    CHECK(name_cgroup("/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service").unit == "foo.service");
    CHECK(name_cgroup("/system.slice").unit.empty());
    CHECK(name_cgroup("/").unit.empty());
    // Docker, containerd, CRI-O and podman, systemd and cgroupfs drivers.
    for (const std::string& path : {"/system.slice/docker-" + kId + ".scope", "/docker/" + kId,
                                   "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podab12.slice/cri-containerd-" +
                                       kId + ".scope",
                                   "/kubepods/besteffort/pod1234/" + kId, "/machine.slice/libpod-" + kId + ".scope",
                                   "/system.slice/crio-" + kId + ".scope"}) {
        INFO(path);
        n = name_cgroup(path);
        CHECK(n.container_id == kId.substr(0, 12));
        CHECK(n.unit.empty());  // the container's scope is the container, not a unit to report
    }
    CHECK(name_cgroup("/system.slice/docker-" + kId.substr(1) + ".scope").container_id.empty());  // 63 digits
    CHECK(name_cgroup("/system.slice/libpod-conmon-" + kId + ".scope").container_id.empty());     // podman's monitor
}

TEST_CASE("cgroup ids are named from the hierarchy, walked again only for a new id", "[cgroup_names]") {
    const std::string root = test::temp_dir("cgroup");
    std::filesystem::create_directories(root + "/system.slice/nginx.service");
    CgroupNames names(64, root);
    const CgroupName& n = names.lookup(inode_of(root + "/system.slice/nginx.service"));
    CHECK(n.path == "/system.slice/nginx.service");
    CHECK(n.unit == "nginx.service");
    CHECK(names.lookup(inode_of(root)).path == "/");
    CHECK(names.walks() == 1);
    // A cgroup made after the first walk is found by the next.
    std::filesystem::create_directories(root + "/system.slice/docker-" + kId + ".scope");
    CHECK(names.lookup(inode_of(root + "/system.slice/docker-" + kId + ".scope")).container_id == kId.substr(0, 12));
    CHECK(names.walks() == 2);
    // An id no walk finds was removed before it could be named: unknown, counted, not walked for again.
    CHECK(names.lookup(999999999).path.empty());
    CHECK(names.lookup(999999999).path.empty());
    CHECK(names.walks() == 3);
    CHECK(names.unknown() == 2);
    std::filesystem::remove_all(root);
}
