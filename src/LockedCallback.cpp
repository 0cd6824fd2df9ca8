// SPDX-License-Identifier: BSD-3-Clause
#include "LockedCallback.h"

#include <stdexcept>
#include <string>

namespace probemon::detail {

constinit thread_local const char* LockedCallback::current_ = nullptr;

void LockedCallback::refuse(const char* call) {
  if (current_ == nullptr) return;
  throw std::logic_error(std::string("probemon: ") + call + " is not allowed inside " + current_ +
                         ": it waits for locks held while such code runs, and could wait for "
                         "ever; call it before or after");
}

}  // namespace probemon::detail
