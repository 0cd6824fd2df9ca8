// SPDX-License-Identifier: BSD-3-Clause
#include "KeyNames.h"

#include <bpf/bpf.h>
#include <fmt/format.h>

#include <cstring>
#include <tuple>

#include "MapReaders.h"
#include "escaping/Escaping.h"

namespace probemon::tool {

bool KeyLess::operator()(const pm_key& a, const pm_key& b) const {
  return std::tie(a.pid, a.generation, a.key_id) < std::tie(b.pid, b.generation, b.key_id);
}

// fmt, not operator+ on strings: GCC 12 at -O3 warns of an overlapping
// memcpy there (a false -Wrestrict, GCC bug 105329).
std::string processOf(const pm_key& key) {
  if (key.generation == PM_GENERATION_UNTRACKED) return fmt::format("{}/?", key.pid);
  if (key.generation != 0) return fmt::format("{}/{}", key.pid, key.generation);
  return std::to_string(key.pid);
}

std::string KeyName::shown() const { return detail::terminalText(label()); }

nlohmann::json KeyName::json(const pm_key& key) const {
  return {
      {"pid", key.pid},
      {"generation", key.generation == PM_GENERATION_UNTRACKED ? nlohmann::json(nullptr)
                                                               : nlohmann::json(key.generation)},
      {"key", known ? nlohmann::json(detail::utf8Text(name)) : nlohmann::json(nullptr)},
      {"key_id", key.key_id},
      {"truncated", truncated}};
}

KeyName KeyNames::lookup(const pm_key& key) const {
  std::lock_guard lock(mu_);
  if (auto it = known_.find(key); it != known_.end()) return it->second;
  pm_key_name value{};
  // Not cached while unread: the BPF program reads it again on the key's
  // next hit.
  if (bpf_map_lookup_elem(fd_, &key, &value) != 0 || value.unread != 0) {
    return {"<key_id " + std::to_string(key.key_id) + ">", false, false};
  }
  return known_[key] = {std::string(value.name, strnlen(value.name, sizeof(value.name))),
                        value.truncated != 0, true};
}

std::optional<KeyName> KeyNames::shown(const pm_key& key) const {
  KeyName name = lookup(key);
  if (!filter_.matches(name.name)) return std::nullopt;
  return name;
}

std::vector<pm_key> KeyNames::keys() const {
  std::vector<pm_key> keys;
  for (const auto& [key, name] : readMap<pm_key, pm_key_name>(fd_)) keys.push_back(key);
  return keys;
}

void KeyNames::forget(std::uint32_t pid) const {
  std::lock_guard lock(mu_);
  deleteEntriesOfProcess(fd_, sizeof(pm_key), pid);
  std::erase_if(known_, [pid](const auto& entry) { return entry.first.pid == pid; });
}

}  // namespace probemon::tool
