// SPDX-License-Identifier: BSD-3-Clause
// A key name as a Prometheus label value. Both exposition formats require
// label values to be UTF-8, and Prometheus rejects a whole scrape over one
// invalid byte, while a key is whatever bytes the application passed. So
// each byte that does not belong to a valid UTF-8 sequence becomes U+FFFD;
// quotes, backslashes and newlines are left to the serializer, which escapes
// them. Keys that differ only in invalid bytes share a label value, and serve
// adds them up into one series.
#pragma once

#include <string>
#include <string_view>

namespace probemon::tool {

std::string labelValue(std::string_view key);

}  // namespace probemon::tool
