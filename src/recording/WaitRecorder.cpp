// SPDX-License-Identifier: BSD-3-Clause
// The WaitRecorder's factory and type test (WaitRecorder.h).
#include "WaitRecorder.h"

namespace probemon::detail {

std::unique_ptr<WaitCounterBackendIf> WaitRecorderFactory::create(std::string_view key) noexcept {
  try {
    return std::make_unique<WaitRecorder>(store_, store_->names.intern(key));
  } catch (...) {  // std::bad_alloc: this key's waits are not recorded
    store_->keys_no_memory.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
}

WaitRecorder* asWaitRecorder(WaitCounterBackendIf* backend) noexcept {
  return dynamic_cast<WaitRecorder*>(backend);
}

}  // namespace probemon::detail
