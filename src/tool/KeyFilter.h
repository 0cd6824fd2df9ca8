// SPDX-License-Identifier: BSD-3-Clause
// --key: the keys a view shows, by an fnmatch(3) glob on their names; no
// glob shows every key.
#pragma once

#include <string>
#include <utility>

namespace probemon::tool {

class KeyFilter {
 public:
  explicit KeyFilter(std::string glob) : glob_(std::move(glob)) {}
  bool matches(const std::string& name) const;

 private:
  std::string glob_;
};

}  // namespace probemon::tool
