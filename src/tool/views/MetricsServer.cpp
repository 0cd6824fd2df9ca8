// SPDX-License-Identifier: BSD-3-Clause
#include "MetricsServer.h"

#include <arpa/inet.h>
#include <civetweb.h>

#include <charconv>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>
#include <vector>

#include "Error.h"

namespace probemon::tool {
namespace {

prometheus::MetricFamily scrapeDuration(double seconds) {
  prometheus::MetricFamily family{
      "probemon_scrape_duration_seconds",
      "Time the previous scrape of serve took: reading the BPF maps, formatting and sending",
      prometheus::MetricType::Gauge,
      {}};
  family.metric.emplace_back().gauge.value = seconds;
  return family;
}

}  // namespace

void checkListenAddress(const std::string& listen) {
  const auto colon = listen.rfind(':');
  const std::string host = listen.substr(0, colon == std::string::npos ? 0 : colon);
  in_addr address{};
  unsigned port = 0;
  const char* digits = listen.c_str() + colon + 1;
  const char* end = listen.c_str() + listen.size();
  const auto [parsed_to, ec] = std::from_chars(digits, end, port);
  if (colon == std::string::npos || ::inet_pton(AF_INET, host.c_str(), &address) != 1 ||
      digits == end || ec != std::errc() || parsed_to != end || port > 65535) {
    throw usageError("--listen '" + listen +
                     "': give IPV4:PORT, e.g. 127.0.0.1:9477, or 0.0.0.0:9477 for every "
                     "interface (this civetweb has no IPv6)");
  }
}

void MetricsServer::StopContext::operator()(mg_context* context) const {
  mg_stop(context);
  mg_exit_library();
}

MetricsServer::MetricsServer(const std::string& listen, const prometheus::Collectable& metrics)
    : metrics_(metrics), host_(listen.substr(0, listen.rfind(':'))) {
  checkListenAddress(listen);
  mg_init_library(0);
  const char* options[] = {"listening_ports",    listen.c_str(), "num_threads", "2",
                           "request_timeout_ms", "10000",        nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &MetricsServer::onLog;
  mg_init_data init{&callbacks, this, options};
  char error_text[256] = "";
  mg_error_data error{nullptr, error_text, sizeof(error_text)};
  context_.reset(mg_start2(&init, &error));
  if (!context_) {
    mg_exit_library();
    throw ToolError("cannot serve on " + listen + ": " +
                    (start_error_.empty() ? std::string(error_text) : start_error_) +
                    ": choose a free address with --listen");
  }
  mg_set_request_handler(context_.get(), "/metrics$", &MetricsServer::onRequest, this);
}

MetricsServer::~MetricsServer() = default;

std::string MetricsServer::url() const {
  mg_server_port port{};
  mg_get_server_ports(context_.get(), 1, &port);
  return "http://" + host_ + ":" + std::to_string(port.port) + "/metrics";
}

int MetricsServer::onLog(const mg_connection* conn, const char* message) {
  // While starting, the first message says why it failed ("cannot bind to
  // 127.0.0.1:9477: 98 (Address already in use)"); later ones are about
  // single connections, which a scraper retries: not shown.
  auto* self = static_cast<MetricsServer*>(mg_get_user_data(mg_get_context(conn)));
  if (self != nullptr && std::this_thread::get_id() == self->starter_ &&
      self->start_error_.empty()) {
    self->start_error_ = message;
  }
  return 1;
}

int MetricsServer::onRequest(mg_connection* conn, void* self) {
  return static_cast<MetricsServer*>(self)->serve(conn);
}

int MetricsServer::serve(mg_connection* conn) {
  const char* method = mg_get_request_info(conn)->request_method;
  const bool head = std::strcmp(method, "HEAD") == 0;
  if (!head && std::strcmp(method, "GET") != 0) {
    mg_send_http_error(conn, 405, "GET /metrics\n");
    return 405;
  }
  std::lock_guard lock(mu_);
  const auto start = std::chrono::steady_clock::now();
  try {
    std::vector<prometheus::MetricFamily> families = metrics_.Collect();
    families.push_back(scrapeDuration(last_scrape_s_));
    const Format format = negotiate(mg_get_header(conn, "Accept"));
    const std::string_view text = exposition_.write(std::move(families), format);
    mg_send_http_ok(conn, contentType(format), static_cast<long long>(text.size()));
    if (!head) mg_write(conn, text.data(), text.size());
  } catch (const std::exception& e) {
    mg_send_http_error(conn, 500, "probemon serve: %s\n", e.what());
    return 500;
  }
  last_scrape_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 200;
}

}  // namespace probemon::tool
