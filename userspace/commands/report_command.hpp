// `netlof report`: one self-contained HTML page of what the sensor saw
// (records), what netlof said (alert lines) and what it learned (the model):
// connections and bytes per process over time, the score distribution with
// the threshold, alerts on a timeline, top destinations, learning summary.
#pragma once

#include <string>

namespace netlof {

struct ReportCommand {
    std::string records;  // records file (JSON lines or CSV)
    std::string alerts;   // alert lines (optional)
    std::string model;    // the model to score with (optional; else the config's model.path)
    std::string config;   // the daemon's config: model.path and alerts.budget (optional)
    std::string out;      // the HTML page
    std::string version;  // written into the page
    bool insecure_files = false;
};

// 0 when written; bad input is thrown as InputError (exit status 2 from main()).
int run_report(const ReportCommand& cmd);

}  // namespace netlof
