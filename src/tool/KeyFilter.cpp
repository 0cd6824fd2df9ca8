// SPDX-License-Identifier: BSD-3-Clause
#include "KeyFilter.h"

#include <fnmatch.h>

namespace probemon::tool {

bool KeyFilter::matches(const std::string& name) const {
  return glob_.empty() || ::fnmatch(glob_.c_str(), name.c_str(), 0) == 0;
}

}  // namespace probemon::tool
