#include "tests/test_support.hpp"

#include <fcntl.h>
#include <filesystem>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "userspace/file_io.hpp"

extern char** environ;

namespace netlof::test {

std::string read_text(const std::string& path) { return read_input_file(path); }

CsvTable read_csv(const std::string& path) { return CsvTable::parse(read_text(path), path); }

std::string temp_dir(const std::string& name) {
    const std::filesystem::path p = std::filesystem::temp_directory_path() / ("netlof-test-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(p);
    std::filesystem::create_directories(p);
    return p.string();
}

namespace {

RunResult run_command(std::vector<std::string> argv_s) {
    const std::string dir = temp_dir("run");
    const std::string out_path = dir + "/stdout", err_path = dir + "/stderr";
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    RunResult r;
    if (posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) == 0) {
        int st = 0;
        ::waitpid(pid, &st, 0);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    posix_spawn_file_actions_destroy(&fa);
    r.out = read_text(out_path);
    r.err = read_text(err_path);
    std::filesystem::remove_all(dir);
    return r;
}

}  // namespace

RunResult run_netlof(const std::vector<std::string>& args) {
    std::vector<std::string> argv{NETLOF_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(std::move(argv));
}

RunResult run_netlof_as_nobody(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  "--inh-caps=-all", "--bounding-set=-all", NETLOF_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(std::move(argv));
}

}  // namespace netlof::test
