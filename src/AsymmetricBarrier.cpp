// SPDX-License-Identifier: BSD-3-Clause
#include "AsymmetricBarrier.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace probemon::detail {
namespace {

// glibc 2.36 has no wrapper.
long membarrier(int cmd) { return syscall(__NR_membarrier, cmd, 0U, 0); }

}  // namespace

bool heavyBarrier() {
  // Registration is once per process, before the first expedited barrier.
  static const bool registered = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  return registered && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0;
}

}  // namespace probemon::detail
