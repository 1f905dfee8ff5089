// Where alerts go, behind one interface: each output formats and delivers
// alerts its own way, survives rotation (reopen()), and says in the log when
// delivery starts failing or recovers (maintain()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/log.hpp"
#include "userspace/engine/alert.hpp"
#include "userspace/outputs/line_sink.hpp"

namespace netlof {

using OutputLog = std::function<void(LogLevel, const std::string&)>;

class AlertOutput {
public:
    virtual ~AlertOutput() = default;
    virtual const char* name() const = 0;  // "alert_log", "syslog": for the stats line and metrics
    virtual void write(const Alert& a) = 0;
    virtual void write(const SensorDrops& d) = 0;
    // SIGUSR1 after rotation: opens the file anew; false when it could not.
    virtual bool reopen() = 0;
    // About once a second: retries what failed, and logs what changed.
    virtual void maintain(const OutputLog& log) = 0;
    virtual std::uint64_t failed_writes() const = 0;
    virtual std::uint64_t lost_lines() const = 0;
};

// The alert log: one Falco-shaped JSON line an alert (falco_json.hpp).
class AlertFile : public AlertOutput {
public:
    // Throws InputError when path cannot be opened for appending.
    AlertFile(const std::string& path, std::string hostname);
    const char* name() const override { return "alert_log"; }
    void write(const Alert& a) override;
    void write(const SensorDrops& d) override;
    bool reopen() override { return sink_.reopen(); }
    void maintain(const OutputLog& log) override;
    std::uint64_t failed_writes() const override { return sink_.failed_writes(); }
    std::uint64_t lost_lines() const override { return sink_.lost_lines(); }

private:
    FileLineSink sink_;
    std::string hostname_;
};

// Logs what sink.maintain() found, naming the file as `what` ("record log").
void maintain_sink(FileLineSink& sink, const char* what, const OutputLog& log);

// This machine's name, as alerts carry it.
std::string host_name();

}  // namespace netlof
