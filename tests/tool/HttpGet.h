// SPDX-License-Identifier: BSD-3-Clause
// HTTP GET for the tests of probemon serve and of the Prometheus it feeds,
// through civetweb's client (the library serve's endpoint runs on).
#pragma once

#include <string>

namespace probemon::test {

struct HttpResponse {
  int status = 0;  // 0: no connection
  std::string content_type;
  std::string body;
  std::string error;  // why there was no response
};

// GET http://127.0.0.1:PORT`target` with an Accept header if given.
HttpResponse httpGet(int port, const std::string& target, const std::string& accept = "");

// `text` percent-encoded for a URL query.
std::string urlEncode(const std::string& text);

// A TCP port on 127.0.0.1 that was free a moment ago.
int freePort();

}  // namespace probemon::test
