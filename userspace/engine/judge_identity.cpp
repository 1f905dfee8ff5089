// Identity and the operator's rules: a process name running an executable
// its pin (or, once learned, what learning saw for the name) does not allow,
// and destinations no allowlist rule of the process allows.
#include <algorithm>
#include <fmt/core.h>
#include <fmt/ranges.h>

#include "userspace/engine/detector.hpp"

namespace netlof {

AllowVerdict Detector::judge_rules(const ConnectionRecord& r, const std::optional<Endpoint>& dst, double now) {
    if (!dst) return AllowVerdict::NoRules;
    const AllowVerdict verdict = allowlist_.check(r.process_name, r.exe, *dst);
    if (verdict != AllowVerdict::Violation) return verdict;
    Alert a = alert_for(r, Rule::AllowlistViolation, now);
    // Which rules judged it and what they allow: the normal a violation leaves.
    for (const AllowRule* rule : allowlist_.rules_for(r.process_name, r.exe)) {
        std::vector<std::string_view> allowed;
        for (const Destination& d : rule->allowed) allowed.push_back(d.text);
        a.why.push_back(fmt::format("{}:{} allows {} {} only {}", rule->file, rule->line,
                                    rule->by_executable ? "executable" : "process", rule->subject,
                                    allowed.empty() ? std::string("nothing") : fmt::format("{}", fmt::join(allowed, ", "))));
    }
    raise(a);
    return verdict;
}

bool Detector::judge_identity(const ConnectionRecord& r, double now) {
    Alert a;
    const std::string& exe = r.exe.empty() ? std::string("an executable netlof could not name") : r.exe;
    if (const AllowRule* pin = allowlist_.masquerade(r.process_name, r.exe)) {
        a.expected_exes = pin->pinned_exes;
        a.why.push_back(fmt::format("process name '{}' is pinned to {} ({}:{}); this process runs {}", r.process_name,
                                    fmt::join(pin->pinned_exes, ", "), pin->file, pin->line, exe));
    } else if (model_ && !r.exe.empty()) {
        const auto it = model_->identities.find(r.process_name);
        if (it == model_->identities.end()) return false;  // a name learning never saw: no identity to compare
        // As for pins: an upgraded, still running binary is still itself.
        if (std::binary_search(it->second.begin(), it->second.end(), without_deleted_suffix(r.exe))) return false;
        a.expected_exes = it->second;
        a.why.push_back(fmt::format("process name '{}' ran only {} while learning; this process runs {}", r.process_name,
                                    fmt::join(it->second, ", "), exe));
    } else {
        return false;
    }
    a.time = now;
    a.rule = Rule::ProcessMasquerade;
    a.priority = rule_priority(a.rule);
    a.record = r;
    raise(a);
    return true;
}

}  // namespace netlof
