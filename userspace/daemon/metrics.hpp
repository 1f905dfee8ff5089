// The daemon's counters in Prometheus' text format, for node_exporter's
// textfile collector: the same accounting as the stats line (records,
// alerts by rule, drops by cause, evictions, failed writes), the model's
// state and the daemon's own memory and CPU.
#pragma once

#include <string>

#include "userspace/daemon/health.hpp"

namespace netlof {

std::string metrics_text(const SensorCounters& sensor, const Detector& detector, const AlertOutputs& outputs,
                         const DaemonCounts& daemon);

}  // namespace netlof
