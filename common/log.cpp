#include "common/log.hpp"

#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace netlof {

bool stderr_is_journal() {
    const char* stream = std::getenv("JOURNAL_STREAM");
    if (stream == nullptr) return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && static_cast<unsigned long long>(st.st_dev) == dev &&
           static_cast<unsigned long long>(st.st_ino) == ino;
}

namespace {

bool journal() {
    static const bool is = stderr_is_journal();
    return is;
}

}  // namespace

void log_line(LogLevel level, const std::string& message) {
    if (journal()) fmt::print(stderr, "<{}>netlof: {}\n", static_cast<int>(level), message);
    else fmt::print(stderr, "netlof: {}\n", message);
}

void log_text(LogLevel level, const std::string& text) {
    if (!journal()) {
        fmt::print(stderr, "{}\n", text);
        return;
    }
    std::size_t start = 0;
    for (std::size_t nl; start <= text.size(); start = nl + 1) {
        nl = text.find('\n', start);
        if (nl == std::string::npos) nl = text.size();
        fmt::print(stderr, "<{}>{}\n", static_cast<int>(level), std::string_view(text).substr(start, nl - start));
    }
}

}  // namespace netlof
