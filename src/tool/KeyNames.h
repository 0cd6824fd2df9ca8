// SPDX-License-Identifier: BSD-3-Clause
// Key names as the BPF programs read them from the target: the key_names map
// every program fills once per key (pid, generation, key_id), read back here
// and cached once known (the names of a key never change: an image that
// numbers its keys anew has a generation of its own), so a view, or a scrape
// that runs on another thread, reads each name from the map once; and which
// keys a view shows.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "KeyFilter.h"
#include "keys.h"

namespace probemon::tool {

// Orders keys by (pid, generation, key_id), for std::map.
struct KeyLess {
  bool operator()(const pm_key& a, const pm_key& b) const;
};

// The process image of `key` for tables: "4242", or "4242/1" for the pid's
// image after one exec or reuse (generation 1); "4242/?" if its images are
// not told apart.
std::string processOf(const pm_key& key);

// A key's name as the BPF program read it from the process: any bytes the
// process chose, so it reaches output only through shown() and json(),
// which escape it (escaping/Escaping.h).
struct KeyName {
  std::string name;        // "<key_id N>" if not known
  bool truncated = false;  // the real name is longer than PM_KEY_MAX - 1
  // False while the name is not read: its key_names entry is missing (the
  // map was full) or waits for a retry (the process's page was not in
  // memory when the key was first seen).
  bool known = true;

  // The name, cut names ending in "...": for a JSON writer that escapes.
  std::string label() const { return truncated ? name + "..." : name; }
  // label() for a terminal: control bytes and invalid UTF-8 shown as \xNN.
  std::string shown() const;
  // {"pid", "generation", "key", "key_id", "truncated"} for the JSON record of `key`;
  // "key" is null while the name is not known.
  nlohmann::json json(const pm_key& key) const;
};

// The key_names map of one program, and the keys a view shows (--key).
// Thread-safe.
class KeyNames {
 public:
  KeyNames(int fd, KeyFilter filter) : fd_(fd), filter_(std::move(filter)) {}
  // The name of `key` if the view shows it.
  std::optional<KeyName> shown(const pm_key& key) const;
  // Every key with a name, e.g. to find the used slots of an array.
  std::vector<pm_key> keys() const;
  // Drops the names of process `pid`, read and cached, once it has exited.
  void forget(std::uint32_t pid) const;

 private:
  KeyName lookup(const pm_key& key) const;

  const int fd_;
  const KeyFilter filter_;
  mutable std::mutex mu_;
  mutable std::map<pm_key, KeyName, KeyLess> known_;
};

// Sorts records that have a `key` and its `name` by pid and generation,
// then name.
template <typename Record>
void sortByPidAndName(std::vector<Record>& records) {
  std::sort(records.begin(), records.end(), [](const Record& a, const Record& b) {
    return std::tie(a.key.pid, a.key.generation, a.name.name) <
           std::tie(b.key.pid, b.key.generation, b.name.name);
  });
}

}  // namespace probemon::tool
