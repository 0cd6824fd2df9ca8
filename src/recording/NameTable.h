// SPDX-License-Identifier: BSD-3-Clause
// The names a recording's records refer to by index (wait counter and
// DynamicCounter keys), interned once per recording when a backend is told
// about a key, so a record holds 4 bytes instead of a string.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace probemon::detail {

class NameTable {
 public:
  std::uint32_t intern(std::string_view name) {
    std::lock_guard lock(mu_);
    if (auto it = index_.find(name); it != index_.end()) return it->second;
    const auto index = static_cast<std::uint32_t>(names_.size());
    const std::string& stored = names_.emplace_back(name);  // a deque: never moves
    index_.emplace(stored, index);
    return index;
  }

  // Every name so far, by index.
  std::vector<std::string> snapshot() const {
    std::lock_guard lock(mu_);
    return {names_.begin(), names_.end()};
  }

 private:
  mutable std::mutex mu_;
  std::deque<std::string> names_;
  std::unordered_map<std::string_view, std::uint32_t> index_;
};

}  // namespace probemon::detail
