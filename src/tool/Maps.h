// Reading the BPF maps the programs share with user space: iteration, the
// per-CPU histograms summed over CPUs, and key names with the --key filter.
#pragma once

#include <bpf/bpf.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "Histogram.h"
#include "keys.h"

namespace probemon::tool {

// Every (key, value) of a map that is not per-CPU, as a snapshot.
template <typename K, typename V>
std::vector<std::pair<K, V>> readMap(int fd) {
  std::vector<std::pair<K, V>> entries;
  K key{}, next{};
  const K* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    V value{};
    if (bpf_map_lookup_elem(fd, &next, &value) == 0) entries.emplace_back(next, value);
    key = next;
    previous = &key;
  }
  return entries;
}

// Every (pid, key_id) histogram of a per-CPU pm_hist hash, summed over CPUs.
std::vector<std::pair<pm_key, Histogram>> readHistograms(int fd);
// One entry of a per-CPU pm_hist map (key: pm_key or a u32 index), summed
// over CPUs; false if there is none.
bool readHistogram(int fd, const void* key, Histogram& hist);

// A key's name as the BPF program read it from the process.
struct KeyName {
  std::string name;        // "<key_id N>" if the name map was full
  bool truncated = false;  // the real name is longer than PM_KEY_MAX - 1
  bool known = true;

  // The name for tables: cut names end in "...".
  std::string shown() const { return truncated ? name + "..." : name; }
};

// The key_names map of one program, and the --key filter.
class KeyNames {
 public:
  KeyNames(int fd, std::string glob) : fd_(fd), glob_(std::move(glob)) {}
  KeyName lookup(const pm_key& key) const;
  // Every key with a name, e.g. to find the used slots of an array.
  std::vector<pm_key> keys() const;
  bool matches(const KeyName& name) const;
  // {"pid", "key", "key_id", "truncated"} for JSON records.
  static nlohmann::json json(const pm_key& key, const KeyName& name);

 private:
  int fd_;
  std::string glob_;
};

// Orders keys by (pid, key_id), for std::map.
struct KeyLess {
  bool operator()(const pm_key& a, const pm_key& b) const;
};

}  // namespace probemon::tool
