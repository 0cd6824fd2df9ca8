// SPDX-License-Identifier: BSD-3-Clause
// serve's HTTP endpoint: GET /metrics on --listen, answered by civetweb (the
// embedded server prometheus-cpp's Exposer runs on) with the exposition of a
// prometheus-cpp Collectable (Exposition.h), in the format the scraper asks
// for, plus probemon_scrape_duration_seconds. Anything else gets 404.
//
// Not the Exposer itself: it answers every scraper with "text/plain;
// charset=utf-8", so it cannot serve OpenMetrics, and in one benchmark run
// with 1,000 keys it took 1.5-2.0x this endpoint's time per scrape
// (docs/performance.md, "probemon serve"). Scrapes run on civetweb's
// threads, one at a time.
//
//   MetricsServer server(options.listen, metrics);   // listening now; throws ToolError
//   std::fprintf(stderr, "Serving %s\n", server.url().c_str());
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <prometheus/collectable.h>

#include "Exposition.h"

struct mg_connection;
struct mg_context;

namespace probemon::tool {

// Throws a usage ToolError unless `listen` is IPV4:PORT.
void checkListenAddress(const std::string& listen);

class MetricsServer {
 public:
  // Listens on `listen` (IPV4:PORT; port 0: any free one). Throws ToolError
  // with what to do: a bad address, a port in use.
  MetricsServer(const std::string& listen, const prometheus::Collectable& metrics);
  // Stops listening and waits for a scrape in progress.
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // "http://127.0.0.1:9477/metrics", with the port listened on.
  std::string url() const;

 private:
  struct StopContext {
    void operator()(mg_context* context) const;
  };

  static int onRequest(mg_connection* conn, void* self);
  static int onLog(const mg_connection* conn, const char* message);
  int serve(mg_connection* conn);

  const prometheus::Collectable& metrics_;
  std::string host_;
  const std::thread::id starter_ = std::this_thread::get_id();
  std::string start_error_;  // civetweb's first complaint in starter_
  std::mutex mu_;            // one scrape at a time
  Exposition exposition_;
  double last_scrape_s_ = 0;
  std::unique_ptr<mg_context, StopContext> context_;  // last: stopped first
};

}  // namespace probemon::tool
