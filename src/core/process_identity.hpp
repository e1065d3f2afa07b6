#pragma once
// Who holds a reservation: enough to tell, from another process on the same host, whether
// the holder is still alive (pid + its start time, so a reused pid is not mistaken for it).

#include <cstdint>
#include <string>

namespace twinstar::detail {

struct ProcessIdentity {
  std::int64_t pid = 0;
  std::int64_t start_ticks = 0;  // /proc/<pid>/stat field 22: start time since boot
  std::string host;              // gethostname()
  std::string boot_id;           // /proc/sys/kernel/random/boot_id: changes on every reboot
};

// This process. Thread: any.
const ProcessIdentity& current_process();

enum class Liveness : std::uint8_t { alive, dead, unknown };

// Whether `p` still runs. `unknown` (another host or container, or no permission to look)
// must be treated as alive: only a provably dead holder's reservations may be cancelled.
Liveness process_liveness(const ProcessIdentity& p);

}  // namespace twinstar::detail
