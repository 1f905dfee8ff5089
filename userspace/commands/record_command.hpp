// `netlof record`: the sensor on its own, writing one record per finished
// connection until the duration ends or SIGINT/SIGTERM.
#pragma once

#include <string>

#include "userspace/records/record_writer.hpp"
#include "userspace/sensor/sensor.hpp"

namespace netlof {

struct RecordCommand {
    double duration_s = 0;  // 0: until a signal
    std::string out = "-";
    std::string format = "jsonl";
    double udp_idle_s = 30;     // a UDP flow with no datagram for this long ends
    double flush_interval_s = 30;
    std::size_t max_processes = 16384;  // executable cache
    std::uint32_t ringbuf_kib = 4096;
    SensorOptions sensor;
};

int run_record(RecordCommand cmd);

}  // namespace netlof
