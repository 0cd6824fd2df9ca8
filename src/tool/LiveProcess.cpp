// SPDX-License-Identifier: BSD-3-Clause
#include "LiveProcess.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "Fd.h"

namespace probemon::tool {

bool processExited(int pid) {
  const Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (fd.get() < 0) return true;  // no such process (ESRCH), or no longer a process
  pollfd watched{fd.get(), POLLIN, 0};
  return ::poll(&watched, 1, 0) == 1;  // readable once every thread has exited
}

std::int64_t monotonicOffsetNs(int pid) {
  // "monotonic  <seconds>  <nanoseconds>", one line per clock.
  std::ifstream offsets("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) +
                        "/timens_offsets");
  std::string line;
  while (std::getline(offsets, line)) {
    std::istringstream fields(line);
    std::string clock;
    std::int64_t seconds = 0;
    std::int64_t nanoseconds = 0;
    if (fields >> clock >> seconds >> nanoseconds && clock == "monotonic") {
      return seconds * 1'000'000'000 + nanoseconds;
    }
  }
  return 0;
}

}  // namespace probemon::tool
