// SPDX-License-Identifier: BSD-3-Clause
#include "ReferenceReplica.h"

namespace probemon::bench {

SmallContexts ReplicaWaitCounter::start() {
  const auto now = std::chrono::steady_clock::now();
  SmallContexts ctxs;
  ctxs.reserve(backends_.size());
  for (const auto& backend : backends_) ctxs.push_back(backend->start(now));
  return ctxs;
}

void ReplicaWaitCounter::stop(const SmallContexts& ctxs) {
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < ctxs.size(); ++i) backends_[i]->stop(now, ctxs[i]);
}

}  // namespace probemon::bench
