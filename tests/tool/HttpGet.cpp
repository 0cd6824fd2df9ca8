// SPDX-License-Identifier: BSD-3-Clause
#include "HttpGet.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <strings.h>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace probemon::test {

HttpResponse httpGet(int port, const std::string& target, const std::string& accept) {
  static const unsigned initialized = mg_init_library(0);
  (void)initialized;
  HttpResponse response;
  char error[256] = "";
  const std::string accept_line = accept.empty() ? "" : "Accept: " + accept + "\r\n";
  mg_connection* conn = mg_download("127.0.0.1", port, 0, error, sizeof(error),
                                    "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s\r\n", target.c_str(),
                                    accept_line.c_str());
  if (conn == nullptr) {
    response.error = error;
    return response;
  }
  const mg_response_info* info = mg_get_response_info(conn);
  response.status = info->status_code;
  for (int i = 0; i < info->num_headers; ++i) {
    if (strcasecmp(info->http_headers[i].name, "Content-Type") == 0) {
      response.content_type = info->http_headers[i].value;
    }
  }
  char buffer[65536];
  for (int n; (n = mg_read(conn, buffer, sizeof(buffer))) > 0;) {
    response.body.append(buffer, static_cast<std::size_t>(n));
  }
  mg_close_connection(conn);
  return response;
}

std::string urlEncode(const std::string& text) {
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      encoded += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "%%%02X", c);
      encoded += hex;
    }
  }
  return encoded;
}

int freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace probemon::test
