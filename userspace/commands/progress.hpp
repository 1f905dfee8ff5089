// Progress of a long command (train, score) on stderr, only when stderr is a
// terminal: one line, rewritten at most four times a second and cleared at
// the end. Output files, and stderr that is a file or a pipe, never see it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

namespace netlof {

class Progress {
public:
    Progress();
    ~Progress();  // clears the line
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    bool shown() const { return enabled_; }
    // Writes text as the progress line, unless one was written under a
    // quarter second ago (force: write it anyway).
    void show(const std::string& text, bool force = false);
    void clear();

private:
    bool enabled_;
    bool dirty_ = false;
    std::chrono::steady_clock::time_point last_{};
};

// For work that cannot report itself (a fit): a thread that shows text()
// every quarter second until this goes out of scope.
class ProgressTicker {
public:
    ProgressTicker(Progress& progress, std::function<std::string()> text);
    ~ProgressTicker();
    ProgressTicker(const ProgressTicker&) = delete;
    ProgressTicker& operator=(const ProgressTicker&) = delete;

private:
    std::jthread thread_;
};

}  // namespace netlof
