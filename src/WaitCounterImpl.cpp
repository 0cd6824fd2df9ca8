// SPDX-License-Identifier: BSD-3-Clause
#include "WaitCounterImpl.h"

#include <algorithm>
#include <utility>

#include "LockedCallback.h"

namespace probemon::detail {

void WaitCounterImpl::syncBackends() {
  std::lock_guard lock(attach_mu_);
  syncBackendsLocked();
}

void WaitCounterImpl::syncBackendsLocked() {
  const auto factories = getRegisteredWaitCounterBackends();
  const auto current = backends().set;
  auto next = std::make_shared<WaitBackendSet>();
  for (const auto& factory : factories) {
    if (current) {
      const auto& active = current->active;
      auto it = std::find_if(active.begin(), active.end(),
                             [&](const auto& e) { return e.factory == factory; });
      if (it != active.end()) {
        next->active.push_back(*it);
        continue;
      }
      if (std::find(current->declined.begin(), current->declined.end(), factory) !=
          current->declined.end()) {
        next->declined.push_back(factory);
        continue;
      }
    }
    std::unique_ptr<WaitCounterBackendIf> backend;
    {
      const LockedCallback user_code("a WaitCounterBackendFactoryIf::create()");
      backend = factory->create(key_.name);
    }
    if (backend) {
      next->active.push_back({factory, std::move(backend)});
    } else {
      next->declined.push_back(factory);
    }
  }
  const auto count = static_cast<std::uint32_t>(next->active.size());
  std::shared_ptr<const WaitBackendSet> replaced;  // freed outside the lock
  {
    std::lock_guard lock(backends_mu_);
    replaced = std::exchange(backends_, std::move(next));
    version_.fetch_add(1, std::memory_order_release);
  }
  backend_count.store(count, std::memory_order_relaxed);
}

void WaitCounterImpl::markReady(std::unique_lock<std::mutex>& creation_lock) {
  syncBackendsLocked();
  ready_.store(true, std::memory_order_release);
  creation_lock.unlock();
}

void WaitCounterImpl::awaitCreator() {
  // Not from user code run under a probemon lock: the creator may be this
  // thread, or wait for a lock this thread holds (LockedCallback.h).
  if (LockedCallback::current() != nullptr) return;
  // The creator holds attach_mu_ until the key is ready.
  std::lock_guard lock(attach_mu_);
}

}  // namespace probemon::detail
