// DynamicCounter: the registry of live counters and of backends.
//
// Backends are told about counters through a wrapper callback that counts
// invocations in flight, so ~DynamicCounter can wait for them itself instead
// of trusting every backend to. One global mutex orders registrations,
// unregistrations and backend (un)registration, so every backend sees each
// counter registered and unregistered exactly once, in that order.
#include <probemon/DynamicCounter.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "KeyTable.h"
#include "ProbeSampler.h"
#include "probes.h"

namespace probemon {
namespace {

constexpr int kKindDynamicCounter = 1;

// The user's callback plus the count of invocations in flight.
class CallbackState {
 public:
  explicit CallbackState(DynamicCounter::Callback callback) : callback_(std::move(callback)) {}

  // Invokes the user's callback unless the counter is already closed, in
  // which case the user's state may be gone and 0 is returned.
  std::int64_t invoke() {
    {
      std::lock_guard lock(mu_);
      if (closed_) {
        return 0;
      }
      ++in_flight_;
    }
    struct Leave {
      CallbackState* self;
      ~Leave() {
        std::lock_guard lock(self->mu_);
        if (--self->in_flight_ == 0 && self->closed_) {
          self->idle_.notify_all();
        }
      }
    } leave{this};
    return callback_();
  }

  // Refuses new invocations and waits for those in flight to return.
  void close() {
    std::unique_lock lock(mu_);
    closed_ = true;
    idle_.wait(lock, [this] { return in_flight_ == 0; });
  }

 private:
  const DynamicCounter::Callback callback_;
  std::mutex mu_;
  std::condition_variable idle_;
  std::size_t in_flight_ = 0;
  bool closed_ = false;
};

struct Registry {
  std::mutex mu;
  // Live counters by key (views of immortal Key names), with the wrapped
  // callbacks that backends registered later are given.
  std::unordered_map<std::string_view, DynamicCounter::Callback> live;
  std::vector<std::unique_ptr<detail::DynamicCounterBackendIf>> backends;
  detail::ProbeSampler sampler;
};

Registry& registry() {
  // Leaked on purpose: static DynamicCounters may be destroyed after any
  // other static.
  static auto* r = new Registry;
  return *r;
}

// Unregisters where an exception cannot be reported: while rolling back
// after another one (which is the one to report) or in a destructor, where
// the other backends still need to hear of the unregistration.
void unregisterQuietly(detail::DynamicCounterBackendIf& backend, std::string_view key) noexcept {
  try {
    backend.unregisterCounter(key);
  } catch (...) {  // NOLINT(bugprone-empty-catch): see above
  }
}

}  // namespace

struct DynamicCounter::Guard {
  const detail::Key* key;
  std::shared_ptr<CallbackState> state;
};

DynamicCounter::DynamicCounter(std::string_view key, Callback getCounterCallback)
    : guard_(std::make_unique<Guard>()) {
  const detail::Key& k = detail::internKey(key);
  guard_->key = &k;
  guard_->state = std::make_shared<CallbackState>(std::move(getCounterCallback));
  Callback wrapped = [state = guard_->state] { return state->invoke(); };

  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (r.live.contains(k.name)) {
    throw std::invalid_argument("probemon::DynamicCounter: a counter with key '" + k.name +
                                "' is already registered");
  }
  std::size_t told = 0;
  try {
    for (; told < r.backends.size(); ++told) {
      r.backends[told]->registerCounter(k.name, wrapped);
    }
    r.sampler.add(k.name, k.id, wrapped);
    r.live.emplace(k.name, std::move(wrapped));
  } catch (...) {
    for (std::size_t i = 0; i < told; ++i) {
      unregisterQuietly(*r.backends[i], k.name);
    }
    r.sampler.remove(k.name);
    throw;
  }
  if (PROBEMON_PROBE_ENABLED(counter__register)) {
    PROBEMON_PROBE(counter__register, k.name.c_str(), k.id, kKindDynamicCounter);
  }
}

DynamicCounter::~DynamicCounter() {
  const detail::Key& k = *guard_->key;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    r.live.erase(k.name);
    r.sampler.remove(k.name);
    for (auto& backend : r.backends) {
      unregisterQuietly(*backend, k.name);
    }
  }
  guard_->state->close();
  if (PROBEMON_PROBE_ENABLED(counter__unregister)) {
    PROBEMON_PROBE(counter__unregister, k.name.c_str(), k.id, kKindDynamicCounter);
  }
}

namespace detail {

void registerDynamicCounterBackend(std::unique_ptr<DynamicCounterBackendIf> backend) {
  if (!backend) {
    return;
  }
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  std::vector<std::string_view> told;
  try {
    for (const auto& [key, callback] : r.live) {
      backend->registerCounter(key, callback);
      told.push_back(key);
    }
  } catch (...) {
    for (std::string_view key : told) {
      unregisterQuietly(*backend, key);
    }
    throw;
  }
  r.backends.push_back(std::move(backend));
}

bool unregisterDynamicCounterBackend(const DynamicCounterBackendIf* backend) {
  std::unique_ptr<DynamicCounterBackendIf> removed;
  {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = std::find_if(r.backends.begin(), r.backends.end(),
                           [&](const auto& b) { return b.get() == backend; });
    if (it == r.backends.end()) {
      return false;
    }
    removed = std::move(*it);
    r.backends.erase(it);
    for (const auto& entry : r.live) {
      unregisterQuietly(*removed, entry.first);
    }
  }
  return true;  // `removed` is destroyed here, outside the lock
}

}  // namespace detail
}  // namespace probemon
