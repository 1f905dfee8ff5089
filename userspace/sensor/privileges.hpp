// Least privilege for the sensor: once the eBPF programs are loaded and
// attached, the process keeps only what reading them needs.
#pragma once

#include <string>

namespace netlof {

// Drops every capability but CAP_SYS_PTRACE from the effective, permitted,
// inheritable, ambient and bounding sets, and sets no_new_privs.
// CAP_SYS_PTRACE stays because reading /proc/<pid>/exe is a ptrace access
// check: without it the executable of any process holding capabilities the
// sensor lacks (every root service) reads as unknown. bpf() on maps already
// open (counters, open connections at stop) and the ring buffer need none.
// What stays uid 0 can still do: write files root owns (logs, the model).
// Returns what was kept, for the log (CAP_SYS_PTRACE only if it was held); throws std::runtime_error
// ("failed to drop capabilities: ...") when the kernel refuses.
std::string drop_privileges();

}  // namespace netlof
