// SPDX-License-Identifier: BSD-3-Clause
#include "ProbeSampler.h"

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "KeyTable.h"
#include "probes.h"

namespace probemon::detail {
namespace {

std::chrono::milliseconds intervalFromEnvironment() {
  constexpr std::chrono::milliseconds kDefault{1000};
  const char* text = std::getenv("PROBEMON_SAMPLE_MS");
  if (text == nullptr) {
    return kDefault;
  }
  long ms = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, ms);
  // A library must not fail its host over a tuning knob: ignore bad values.
  if (ec != std::errc() || ptr != end || ms < 1 || ms > 3'600'000) {
    return kDefault;
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace

ProbeSampler::ProbeSampler(LiveCounters live)
    : live_(std::move(live)), interval_(intervalFromEnvironment()) {}

ProbeSampler::Thread::Thread(const ProbeSampler& sampler)
    : control_(std::make_shared<Control>()),
      // A semaphore, not a condition variable: a child of fork() may start a
      // new thread while the parent's waited on the old one.
      thread_([&sampler, control = control_] {
        control->started.store(true);
        control->started.notify_all();
        while (!control->stop.try_acquire_for(sampler.interval_)) sampler.sampleOnce();
      }) {}

ProbeSampler::Thread::~Thread() {
  control_->stop.release();
  if (thread_.get_id() == std::this_thread::get_id()) {
    thread_.detach();  // it ends after this sample, holding its own control_
  } else {
    thread_.join();
  }
}

void ProbeSampler::restartInChild() {
  if (!thread_) return;
  (void)thread_.release();
  start();
}

void ProbeSampler::sampleOnce() const {
  if (!PROBEMON_PROBE_ENABLED(dynamic__value)) {
    return;
  }
  for (const LiveCounter& counter : live_()) {
    std::optional<std::int64_t> value;
    try {
      value = counter.callback->invoke();
    } catch (...) {
      continue;  // the callback broke its contract: no sample this round
    }
    if (!value) continue;  // destroyed since the list was taken
    PROBEMON_PROBE(dynamic__value, counter.key->name.c_str(), counter.key->id, *value);
  }
}

}  // namespace probemon::detail
