// SPDX-License-Identifier: BSD-3-Clause
#include "SlowWaits.h"

#include <fmt/format.h>

#include <cerrno>

#include "Session.h"

namespace probemon::tool {

SlowWaits::SlowWaits(Session& session, std::uint32_t max_keys, std::uint64_t min_ns,
                     std::uint32_t ringbuf_bytes, KeyFilter filter, OnWait on_wait)
    : ringbuf_kb_(ringbuf_bytes / 1024),
      on_wait_(std::move(on_wait)),
      program_(session, "trace", max_keys, std::move(filter),
               [&](trace_bpf& skel) {
                 skel.rodata->min_ns = min_ns;
                 setMaxEntries(skel.maps.events, ringbuf_bytes);
               }),
      ring_(ring_buffer__new(bpf_map__fd(program_->maps.events), onRecord, this, nullptr),
            &ring_buffer__free) {
  if (!ring_) skeletonFailed(-errno, "trace", "open the ring buffer of");
  session.watch(ring_buffer__epoll_fd(ring_.get()), [this] { consume(); });
  program_.attach(program_->progs.handle_wait_done, "wait__done");
}

void SlowWaits::consume() {
  ring_buffer__consume(ring_.get());
  if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
}

int SlowWaits::onRecord(void* context, void* data, std::size_t size) {
  auto* self = static_cast<SlowWaits*>(context);
  if (size < sizeof(pm_trace_event)) return 0;
  const auto& wait = *static_cast<const pm_trace_event*>(data);
  try {
    const pm_key key{wait.pid, wait.generation, wait.key_id};
    if (const auto name = self->program_.names().shown(key)) self->on_wait_(wait, key, *name);
    return 0;
  } catch (...) {
    // An exception must not unwind through libbpf: stop consuming, rethrow
    // in consume().
    self->failure_ = std::current_exception();
    return -1;
  }
}

std::vector<Drop> SlowWaits::drops() const {
  return program_.drops(
      {{"events", program_->bss->events_lost,
        fmt::format("waits not traced: ring buffer full (raise --ringbuf-kb {})", ringbuf_kb_)}});
}

}  // namespace probemon::tool
