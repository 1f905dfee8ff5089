#include "userspace/commands/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace netlof {

Progress::Progress() : enabled_(::isatty(STDERR_FILENO) == 1) {}

Progress::~Progress() { clear(); }

void Progress::show(const std::string& text, bool force) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && dirty_ && now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    dirty_ = true;
    // Carriage return, the text, erase to the end of the line.
    std::fprintf(stderr, "\r%s\033[K", text.c_str());
    std::fflush(stderr);
}

void Progress::clear() {
    if (!enabled_ || !dirty_) return;
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    dirty_ = false;
}

ProgressTicker::ProgressTicker(Progress& progress, std::function<std::string()> text) {
    if (!progress.shown()) return;
    thread_ = std::jthread([&progress, text = std::move(text)](std::stop_token stop) {
        while (!stop.stop_requested()) {
            progress.show(text(), true);
            for (int i = 0; i < 25 && !stop.stop_requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });
}

ProgressTicker::~ProgressTicker() {
    if (thread_.joinable()) {
        thread_.request_stop();
        thread_.join();
    }
}

}  // namespace netlof
