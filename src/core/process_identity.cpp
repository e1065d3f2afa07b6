#include "core/process_identity.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

namespace twinstar::detail {

namespace {

// Field 22 of /proc/<pid>/stat; 0 when unreadable. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after the last ')'.
std::int64_t read_start_ticks(std::int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  if (!in) return 0;
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(line.substr(close + 1));
  std::string field;
  for (int index = 3; index <= 22 && (fields >> field); ++index) {
    if (index == 22) return std::stoll(field);
  }
  return 0;
}

std::string read_boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  if (in) std::getline(in, id);
  return id;
}

ProcessIdentity make_current() {
  ProcessIdentity p;
  p.pid = ::getpid();
  p.start_ticks = read_start_ticks(p.pid);
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) == 0) p.host = host;
  p.boot_id = read_boot_id();
  return p;
}

}  // namespace

const ProcessIdentity& current_process() {
  // Not cached across fork(): a forked child has its own pid.
  thread_local ProcessIdentity cached;
  if (cached.pid != ::getpid()) cached = make_current();
  return cached;
}

Liveness process_liveness(const ProcessIdentity& p) {
  const ProcessIdentity& self = current_process();
  if (p.host != self.host) return Liveness::unknown;
  if (!p.boot_id.empty() && !self.boot_id.empty() && p.boot_id != self.boot_id) return Liveness::dead;  // rebooted
  if (p.pid <= 0) return Liveness::dead;
  if (p.pid == self.pid) return p.start_ticks == self.start_ticks ? Liveness::alive : Liveness::dead;
  const std::int64_t start = read_start_ticks(p.pid);
  if (start != 0) return start == p.start_ticks ? Liveness::alive : Liveness::dead;  // else: the pid was reused
  // /proc may hide other users' processes: ask the kernel directly.
  if (::kill(static_cast<pid_t>(p.pid), 0) == 0 || errno == EPERM) return Liveness::unknown;
  return Liveness::dead;
}

}  // namespace twinstar::detail
