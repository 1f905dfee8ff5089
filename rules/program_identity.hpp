// A program as an operator knows it: the key every learned baseline is kept
// under (reach, windows, beacons, the LOF sample).
//
// The executable is what a process cannot fake with prctl, so it comes
// first (its process name when the executable is unknown). Two things
// separate services that share it:
//   - the systemd unit of its cgroup ("app.service" and "worker.service"
//     both run /usr/bin/python3.11). Numbers in a unit's name change with
//     every login or transient run (session-4.scope, run-u42.service), so
//     each run of digits is written "N" and each run of 12 or more hex
//     digits "ID": one key for every session, not a new program a login.
//     Container ids change with every restart of a container, so they are
//     not part of the key (records do not carry an image name);
//   - the process name, where the executable is an interpreter or a shell
//     (python3.11 running gunicorn and certbot): for other executables the
//     name is the program's to choose (a JVM names its threads) and novelty
//     judges it separately (a new name of a learned executable).
// Records without a unit (non-systemd hosts, older record logs) key by the
// executable alone, as before.
#pragma once

#include <string>
#include <string_view>

namespace netlof {

// Is exe an interpreter or a shell (python3.11, perl5.36, node, bash, sh)?
bool runs_scripts(std::string_view exe);
// The unit as the key writes it: digits as N, long hex ids as ID.
void unit_kind_into(std::string_view unit, std::string& out);

// The key: "<exe>" or "name:<process name>", then "\t<name>" for an
// interpreter, then "\t@<unit kind>" when the unit is known. Reuses out's buffer.
void program_key_into(std::string_view process_name, std::string_view exe, std::string_view unit, std::string& out);
std::string program_key(std::string_view process_name, std::string_view exe, std::string_view unit = {});
// The key models before format 5 kept: "<exe>" or "name:<process name>".
void executable_key_into(std::string_view process_name, std::string_view exe, std::string& out);
// The executable a key names ("" when it names a process instead).
std::string_view program_key_exe(std::string_view key);
// "python3.11 (gunicorn) in app.service": the key as an operator reads it.
std::string program_key_text(std::string_view key);

}  // namespace netlof
