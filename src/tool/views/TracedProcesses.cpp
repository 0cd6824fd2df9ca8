// SPDX-License-Identifier: BSD-3-Clause
#include "TracedProcesses.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace probemon::tool {
namespace {

// A pidfd polls readable once its process has exited. Without one (out of
// file descriptors, say), the pid no longer existing tells, which a reused
// pid fools.
bool gone(std::uint32_t pid, const pollfd& polled) {
  if (polled.fd < 0) return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
  return (polled.revents & POLLIN) != 0;
}

}  // namespace

void TracedProcesses::see(std::uint32_t pid) {
  if (alive_.contains(pid) || exited_.contains(pid)) return;
  Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0)));
  if (fd.get() < 0 && errno == ESRCH) {
    exited_.insert(pid);
    gone_before_watched_.push_back(pid);
    return;
  }
  alive_.emplace(pid, std::move(fd));
}

std::vector<std::uint32_t> TracedProcesses::newlyExited() {
  std::vector<std::uint32_t> exited;
  exited.swap(gone_before_watched_);
  std::vector<pollfd> fds;
  fds.reserve(alive_.size());
  for (const auto& [pid, fd] : alive_) fds.push_back({fd.get(), POLLIN, 0});
  if (!fds.empty()) ::poll(fds.data(), fds.size(), 0);  // skips fds < 0
  auto it = alive_.begin();
  for (const pollfd& polled : fds) {
    if (gone(it->first, polled)) {
      exited.push_back(it->first);
      exited_.insert(it->first);
      it = alive_.erase(it);
    } else {
      ++it;
    }
  }
  exits_ += exited.size();
  return exited;
}

}  // namespace probemon::tool
