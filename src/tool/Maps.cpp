#include "Maps.h"

#include <bpf/libbpf.h>
#include <fnmatch.h>

#include <cstring>
#include <tuple>

namespace probemon::tool {

bool readHistogram(int fd, const void* key, Histogram& hist) {
  static_assert(sizeof(pm_hist) % 8 == 0);
  // Per-CPU values come back as one 8-byte-aligned slot per possible CPU.
  static const int cpus = libbpf_num_possible_cpus();
  std::vector<pm_hist> per_cpu(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  if (bpf_map_lookup_elem(fd, key, per_cpu.data()) != 0) return false;
  hist = Histogram();
  for (const auto& part : per_cpu) hist.merge(part);
  return true;
}

std::vector<std::pair<pm_key, Histogram>> readHistograms(int fd) {
  std::vector<std::pair<pm_key, Histogram>> result;
  pm_key key{}, next{};
  const pm_key* previous = nullptr;
  Histogram hist;
  while (bpf_map_get_next_key(fd, previous, &next) == 0) {
    if (readHistogram(fd, &next, hist)) result.emplace_back(next, hist);
    key = next;
    previous = &key;
  }
  return result;
}

KeyName KeyNames::lookup(const pm_key& key) const {
  pm_key_name value{};
  if (bpf_map_lookup_elem(fd_, &key, &value) != 0) {
    return {"<key_id " + std::to_string(key.key_id) + ">", false, false};
  }
  return {std::string(value.name, strnlen(value.name, sizeof(value.name))), value.truncated != 0,
          true};
}

std::vector<pm_key> KeyNames::keys() const {
  std::vector<pm_key> keys;
  for (const auto& [key, name] : readMap<pm_key, pm_key_name>(fd_)) keys.push_back(key);
  return keys;
}

bool KeyNames::matches(const KeyName& name) const {
  return glob_.empty() || ::fnmatch(glob_.c_str(), name.name.c_str(), 0) == 0;
}

nlohmann::json KeyNames::json(const pm_key& key, const KeyName& name) {
  return {{"pid", key.pid},
          {"key", name.known ? nlohmann::json(name.name) : nlohmann::json(nullptr)},
          {"key_id", key.key_id},
          {"truncated", name.truncated}};
}

bool KeyLess::operator()(const pm_key& a, const pm_key& b) const {
  return std::tie(a.pid, a.key_id) < std::tie(b.pid, b.key_id);
}

}  // namespace probemon::tool
