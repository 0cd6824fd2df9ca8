// SPDX-License-Identifier: BSD-3-Clause
#include "KeyTable.h"

#include <memory>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <unordered_map>

#include "Fork.h"

namespace probemon::detail {
namespace {

struct KeyTable {
  KeyTable() { watchForks(); }

  std::shared_mutex mu;
  // Heterogeneous lookup by string_view; the map owns the Keys, which never
  // move or die because they are held by unique_ptr and never erased.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::unique_ptr<Key>, Hash, std::equal_to<>> keys;
  std::uint64_t next_id = 1;
};

KeyTable& table() {
  // Leaked on purpose: keys must outlive every static destructor that may
  // still start a wait or destroy a DynamicCounter.
  static auto* t = new KeyTable;
  return *t;
}

}  // namespace

Key& internKey(std::string_view name) {
  KeyTable& t = table();
  {
    std::shared_lock lock(t.mu);
    if (auto it = t.keys.find(name); it != t.keys.end()) {
      return *it->second;
    }
  }
  std::unique_lock lock(t.mu);
  auto [it, inserted] = t.keys.try_emplace(std::string(name));
  if (inserted) {
    it->second = std::make_unique<Key>(it->first, t.next_id++);
  }
  return *it->second;
}

void lockKeysForFork() { table().mu.lock(); }

void unlockKeysAfterFork(bool in_child) {
  // A child's thread id is not the parent's, which glibc's rwlock checks to
  // tell a writer's unlock from a reader's: made anew instead.
  if (in_child) {
    new (&table().mu) std::shared_mutex;
  } else {
    table().mu.unlock();
  }
}

}  // namespace probemon::detail
