// `netlof record`: the sensor on its own, writing one record per finished
// connection until the duration ends or SIGINT/SIGTERM.
#pragma once

#include <string>

#include "userspace/records/record_writer.hpp"
#include "userspace/sensor/capture.hpp"

namespace netlof {

struct RecordCommand {
    double duration_s = 0;  // 0: until a signal
    std::string out = "-";
    std::string format = "jsonl";
    std::string byte_source = "auto";  // parse_byte_source
    SensorOptions sensor;
};

int run_record(RecordCommand cmd);

}  // namespace netlof
