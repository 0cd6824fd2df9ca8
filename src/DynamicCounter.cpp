// SPDX-License-Identifier: BSD-3-Clause
// DynamicCounter: the public class and the backend registration functions,
// over the registry (DynamicCounterRegistry.h) and the callback's in-flight
// count (CallbackState.h).
#include <probemon/DynamicCounter.h>

#include "CallbackState.h"
#include "DynamicCounterRegistry.h"
#include "KeyTable.h"
#include "probemon_abi.h"
#include "probes.h"

namespace probemon {

struct DynamicCounter::Guard {
  const detail::Key* key;
  std::shared_ptr<detail::CallbackState> callback;
};

DynamicCounter::DynamicCounter(std::string_view key, Callback getCounterCallback)
    : guard_(std::make_unique<Guard>()) {
  const detail::Key& k = detail::internKey(key);
  guard_->key = &k;
  guard_->callback = std::make_shared<detail::CallbackState>(std::move(getCounterCallback));
  detail::DynamicCounterRegistry::instance().add(k, guard_->callback);
  if (PROBEMON_PROBE_ENABLED(counter__register)) {
    PROBEMON_PROBE(counter__register, k.name.c_str(), k.id, PROBEMON_KIND_DYNAMIC_COUNTER);
  }
}

DynamicCounter::~DynamicCounter() {
  const detail::Key& k = *guard_->key;
  detail::DynamicCounterRegistry::instance().remove(k);
  guard_->callback->close();
  if (PROBEMON_PROBE_ENABLED(counter__unregister)) {
    PROBEMON_PROBE(counter__unregister, k.name.c_str(), k.id, PROBEMON_KIND_DYNAMIC_COUNTER);
  }
}

namespace detail {

void registerDynamicCounterBackend(std::unique_ptr<DynamicCounterBackendIf> backend) {
  if (backend) DynamicCounterRegistry::instance().addBackend(std::move(backend));
}

bool unregisterDynamicCounterBackend(const DynamicCounterBackendIf* backend) {
  return DynamicCounterRegistry::instance().removeBackend(backend);
}

}  // namespace detail
}  // namespace probemon
