// SPDX-License-Identifier: BSD-3-Clause
// The processes serve has seen in its maps, each watched through a pidfd
// from then on, so that a scrape knows which have exited since the last
// one: their waits are kept in their keys' totals and their map entries
// freed, their open waits and counter values no longer shown. A pidfd, not
// the pid, tells: a pid may be reused by a new process, a pidfd is not.
// Not thread-safe (serve's scrapes hold one lock).
//
//   processes.see(pid);                        // for every pid in the maps
//   for (pid : processes.newlyExited()) ...    // once per scrape, before reading the maps
//   processes.forget(pid);                     // its entries are gone: a new process may reuse it
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "Fd.h"

namespace probemon::tool {

class TracedProcesses {
 public:
  // Watches `pid` from now on, unless it is watched or known to have
  // exited. One already gone is reported by the next newlyExited().
  void see(std::uint32_t pid);
  // The watched processes that exited since the last call.
  std::vector<std::uint32_t> newlyExited();
  bool exited(std::uint32_t pid) const { return exited_.contains(pid); }
  // Lets `pid` be seen again, as a new process.
  void forget(std::uint32_t pid) { exited_.erase(pid); }

  std::size_t alive() const { return alive_.size(); }
  std::uint64_t exits() const { return exits_; }

 private:
  std::map<std::uint32_t, Fd> alive_;
  std::set<std::uint32_t> exited_;
  std::vector<std::uint32_t> gone_before_watched_;
  std::uint64_t exits_ = 0;
};

}  // namespace probemon::tool
