// The layers, as the README draws them, checked on the sources themselves:
// every "#include" of a project header must point down the data path, never
// back up it (kernel events -> records -> verdicts -> alerts), and the
// kernel's structs stay inside the sensor.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/test_support.hpp"

namespace fs = std::filesystem;

namespace {

struct Include {
    std::string file;  // relative to the source tree
    int line;
    std::string header;
};

// Every quoted include of the project's sources (tests and the generated
// skeleton apart).
std::vector<Include> project_includes() {
    std::vector<Include> out;
    const std::regex include(R"(^\s*#\s*include\s*"([^"]+)\")");
    const fs::path root(NETLOF_SOURCE_DIR);
    for (const char* dir : {"common", "model", "rules", "userspace", "bpf", "bench"}) {
        for (const auto& e : fs::recursive_directory_iterator(root / dir)) {
            const std::string ext = e.path().extension().string();
            if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".h" && ext != ".c")) continue;
            std::ifstream in(e.path());
            std::string text;
            int line = 0;
            while (std::getline(in, text)) {
                ++line;
                std::smatch m;
                if (std::regex_search(text, m, include)) out.push_back({fs::relative(e.path(), root).string(), line, m[1]});
            }
        }
    }
    return out;
}

// The folder a file or header belongs to: "userspace/engine", "model", ...
std::string room_of(const std::string& path) {
    const std::size_t first = path.find('/');
    if (first == std::string::npos) return path;
    if (path.compare(0, first, "userspace") != 0) return path.substr(0, first);
    const std::size_t second = path.find('/', first + 1);
    return second == std::string::npos ? path : path.substr(0, second);
}

}  // namespace

TEST_CASE("layout: each room includes only the rooms below it", "[layout]") {
    // What each room may include besides itself.
    const std::map<std::string, std::set<std::string>> may = {
        {"common", {}},
        {"model", {"common"}},
        {"rules", {"common", "model"}},
        {"bpf", {}},
        // The load generator stands alone; the learning bench drives the engine as the daemon does.
        {"bench", {"common", "model", "rules", "userspace/records", "userspace/engine", "userspace/daemon"}},
        {"userspace/records", {"common", "model"}},
        {"userspace/sensor", {"common", "bpf", "userspace/records"}},
        {"userspace/engine", {"common", "model", "rules", "userspace/records"}},
        {"userspace/outputs", {"common", "userspace/records", "userspace/engine"}},
        {"userspace/report", {"common", "userspace/records"}},
        {"userspace/daemon",
         {"common", "model", "rules", "userspace/records", "userspace/sensor", "userspace/engine", "userspace/outputs"}},
        {"userspace/commands",
         {"common", "model", "rules", "userspace/records", "userspace/sensor", "userspace/engine", "userspace/outputs",
          "userspace/daemon", "userspace/report"}},
    };
    const std::vector<Include> includes = project_includes();
    REQUIRE(includes.size() > 100);  // the walk found the sources
    std::set<std::string> rooms_seen;
    for (const Include& inc : includes) {
        if (inc.header == "netlof.skel.h" || inc.header == "vmlinux.h" || inc.header.find('/') == std::string::npos)
            continue;  // the generated skeleton and the kernel half's own headers
        const std::string from = room_of(inc.file), to = room_of(inc.header);
        rooms_seen.insert(from);
        INFO(inc.file << ":" << inc.line << ": #include \"" << inc.header << "\"");
        REQUIRE(may.count(from) == 1);  // a new folder needs its place in this table (and in docs/design.md)
        CHECK((to == from || may.at(from).count(to) == 1));
    }
    CHECK(rooms_seen.size() == may.size() - 1);  // every room but bpf includes project headers
}

TEST_CASE("layout: the kernel's structs are seen by the sensor only", "[layout]") {
    for (const Include& inc : project_includes()) {
        if (inc.header != "bpf/events.h" && inc.header != "events.h" && inc.header != "netlof.skel.h") continue;
        INFO(inc.file << ":" << inc.line);
        CHECK((room_of(inc.file) == "userspace/sensor" || room_of(inc.file) == "bpf"));
    }
    // Nor do they come in through the sensor's face to the rest (capture.hpp)
    // or the record: what those include, all the way down, never reaches them.
    std::map<std::string, std::vector<std::string>> graph;
    for (const Include& inc : project_includes()) graph[inc.file].push_back(inc.header);
    for (const std::string start : {"userspace/sensor/capture.hpp", "userspace/records/connection_record.hpp"}) {
        std::set<std::string> seen{start};
        std::vector<std::string> todo{start};
        while (!todo.empty()) {
            const std::string file = todo.back();
            todo.pop_back();
            for (const std::string& h : graph[file])
                if (seen.insert(h).second) todo.push_back(h);
        }
        INFO(start);
        CHECK(graph.count(start) == 1);
        CHECK(seen.count("bpf/events.h") == 0);
        CHECK(seen.count("userspace/sensor/sensor.hpp") == 0);
    }
}
