// SPDX-License-Identifier: BSD-3-Clause
// RecordQueue: finding and making each thread's records
// (<probemon/RecordQueue.h>, ThreadRecords.h).
#include <probemon/RecordQueue.h>

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "ThreadRecords.h"

namespace probemon {
namespace {

std::atomic<std::uint64_t> g_next_queue_id{1};

std::string currentThreadName() {
  std::array<char, 64> name{};
  if (pthread_getname_np(pthread_self(), name.data(), name.size()) != 0) return {};
  return name.data();
}

}  // namespace

namespace detail {
constinit thread_local ThreadRecords::Cache ThreadRecords::cache_{0, nullptr};
}  // namespace detail

RecordQueue::RecordQueue(std::int64_t max_events)
    : id_(g_next_queue_id.fetch_add(1, std::memory_order_relaxed)), storage_(max_events) {}

RecordQueue::~RecordQueue() = default;

ThreadSubqueue* RecordQueue::getSubqueue() noexcept { return threadRecords(); }

detail::ThreadRecords* RecordQueue::threadRecords() noexcept {
  if (detail::ThreadRecords* records = detail::ThreadRecords::cached(id_)) return records;
  return makeThreadRecords();
}

detail::ThreadRecords* RecordQueue::makeThreadRecords() noexcept {
  const auto tid = static_cast<std::uint64_t>(gettid());
  detail::ThreadRecords* records = nullptr;
  try {
    std::lock_guard lock(mu_);
    // Found again when this thread recorded into another queue meanwhile.
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [&](const auto& r) { return r->tid() == tid; });
    if (it != threads_.end()) {
      records = it->get();
    } else {
      threads_.push_back(
          std::make_unique<detail::ThreadRecords>(storage_, tid, currentThreadName()));
      records = threads_.back().get();
    }
  } catch (...) {  // std::bad_alloc: this event is dropped, and counted
    no_memory_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  detail::ThreadRecords::setCurrent(id_, records);
  return records;
}

std::vector<const detail::ThreadRecords*> RecordQueue::allThreadRecords() const {
  std::lock_guard lock(mu_);
  std::vector<const detail::ThreadRecords*> all;
  all.reserve(threads_.size());
  for (const auto& records : threads_) all.push_back(records.get());
  return all;
}

}  // namespace probemon
