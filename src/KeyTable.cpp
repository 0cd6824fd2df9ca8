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
  // Keyed by views of the Keys' own names: the map owns the Keys, which
  // never move or die because they are held by unique_ptr and never erased.
  // (std::hash<string_view> also lets libstdc++ find among a few keys by
  // comparing, without hashing: a handle for an existing key costs 4 ns
  // less than with a transparent hash on std::string keys.)
  std::unordered_map<std::string_view, std::unique_ptr<Key>> keys;
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
  if (auto it = t.keys.find(name); it != t.keys.end()) {
    return *it->second;  // another thread made it meanwhile
  }
  // Braces: Key is an aggregate (clang 14 has no parenthesized aggregate init).
  std::unique_ptr<Key> key(new Key{std::string(name), t.next_id++});
  const std::string_view view = key->name;
  return *t.keys.emplace(view, std::move(key)).first->second;
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
