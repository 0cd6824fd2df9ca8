// SPDX-License-Identifier: BSD-3-Clause
#include "KeyNames.h"

#include <bpf/bpf.h>

#include <cstring>
#include <tuple>

#include "MapReaders.h"
#include "escaping/Escaping.h"

namespace probemon::tool {

bool KeyLess::operator()(const pm_key& a, const pm_key& b) const {
  return std::tie(a.pid, a.key_id) < std::tie(b.pid, b.key_id);
}

std::string KeyName::shown() const { return detail::terminalText(label()); }

nlohmann::json KeyName::json(const pm_key& key) const {
  return {{"pid", key.pid},
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

}  // namespace probemon::tool
