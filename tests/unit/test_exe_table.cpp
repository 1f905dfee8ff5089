#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "tests/test_support.hpp"
#include "userspace/sensor/exe_table.hpp"

using namespace netlof;

namespace {

// A fake /proc: <root>/<pid>/exe links to a real file, whose (dev, ino) the
// table compares with the kernel's.
struct FakeProc {
    std::string root = test::temp_dir("proc");
    ~FakeProc() { std::filesystem::remove_all(root); }
    std::string binary(const std::string& name) {
        const std::string path = root + "/bin-" + name;
        std::ofstream(path) << name;
        return path;
    }
    void run(int pid, const std::string& exe) {
        const std::string dir = root + "/" + std::to_string(pid);
        std::filesystem::create_directories(dir);
        std::filesystem::remove(dir + "/exe");
        std::filesystem::create_symlink(exe, dir + "/exe");
    }
};

ExeId id_of(const std::string& path) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    return ExeId{kernel_dev(st.st_dev), st.st_ino};
}

netlof_exec_event exec_event(std::uint32_t tgid, const ExeId& id, const std::string& path, std::uint32_t flags = 0) {
    netlof_exec_event e{};
    e.hdr.type = NETLOF_EV_EXEC;
    e.hdr.size = sizeof e;
    e.tgid = tgid;
    e.exe_dev = id.dev;
    e.exe_ino = id.ino;
    e.flags = flags;
    e.path_len = static_cast<std::uint32_t>(path.size());
    std::memcpy(e.path, path.data(), path.size());
    return e;
}

}  // namespace

TEST_CASE("exec records name executables by identity, whatever the process calls itself", "[exe_table]") {
    ExeTable t(16, "/nonexistent");
    t.on_exec(exec_event(10, {5, 100}, "/usr/bin/curl"));
    t.on_exec(exec_event(11, {5, 200}, "/memfd:x", NETLOF_EXE_DELETED));
    t.on_exec(exec_event(12, {5, 300}, "/deep/tail", NETLOF_EXE_TRUNCATED));
    CHECK(t.lookup(10, {5, 100}) == "/usr/bin/curl");
    CHECK(t.lookup(99, {5, 100}) == "/usr/bin/curl");  // a forked child runs the same file
    CHECK(t.lookup(11, {5, 200}) == "/memfd:x (deleted)");
    CHECK(t.lookup(12, {5, 300}) == ".../deep/tail");
    CHECK(t.stats().truncated == 1);
    CHECK(t.lookup(10, {6, 100}).empty());  // same inode on another device: not the same file
    CHECK(t.lookup(10, {5, 0}).empty());    // no executable (a kernel thread)
    CHECK(t.stats().unknown == 2);
    CHECK(t.stats().from_exec == 3);
}

TEST_CASE("a miss reads /proc/<pid>/exe, and uses it only when it is the file the record names", "[exe_table]") {
    FakeProc proc;
    const std::string curl = proc.binary("curl"), wget = proc.binary("wget");
    proc.run(42, curl);
    ExeTable t(16, proc.root);
    CHECK(t.lookup(42, id_of(curl)) == curl);
    CHECK(t.stats().from_proc == 1);
    // pid 42 now runs wget: a record naming curl's file by another pid's
    // /proc entry is not given wget's path.
    proc.run(43, wget);
    CHECK(t.lookup(43, id_of(curl)) == curl);  // known already
    CHECK(t.lookup(43, ExeId{1, 777}).empty()); // /proc/43/exe is another file
    CHECK(t.lookup(44, ExeId{1, 778}).empty()); // no such process
    CHECK(t.stats().unknown == 2);
}

TEST_CASE("processes running before the sensor are read at start; exec paths win", "[exe_table]") {
    FakeProc proc;
    const std::string a = proc.binary("a"), b = proc.binary("b");
    proc.run(1, a);
    proc.run(2, b);
    std::filesystem::create_directories(proc.root + "/self");  // not a pid
    ExeTable t(16, proc.root);
    t.on_exec(exec_event(2, id_of(b), "/from/the/kernel"));
    t.scan_running();
    CHECK(t.size() == 2);
    CHECK(t.stats().from_proc == 1);
    std::filesystem::remove_all(proc.root + "/1");  // gone: the scan's path remains
    CHECK(t.lookup(1, id_of(a)) == a);
    CHECK(t.lookup(2, id_of(b)) == "/from/the/kernel");
}

TEST_CASE("the table stays within its capacity and counts what it evicts", "[exe_table]") {
    ExeTable t(2, "/nonexistent");
    for (std::uint64_t ino = 1; ino <= 5; ++ino) t.on_exec(exec_event(1, {1, ino}, "/bin/" + std::to_string(ino)));
    t.on_exec(exec_event(1, {1, 5}, "/bin/5-again"));  // an update, not an entry
    CHECK(t.size() == 2);
    CHECK(t.stats().evictions == 3);
    CHECK(t.lookup(1, {1, 5}) == "/bin/5-again");
    CHECK(t.lookup(1, {1, 1}).empty());
}
