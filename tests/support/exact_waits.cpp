// SPDX-License-Identifier: BSD-3-Clause
// probemon-test-exact-waits: fires probemon's probes as the library does,
// but with chosen durations, so a test knows to the nanosecond what every
// wait was (the library times real waits, which no test can pin to 2^k - 1
// ns). It has its own copy of the probemon provider (probes/probemon.d,
// semaphores included), so the tool sees an executable with every probemon
// probe.
//
//   probemon-test-exact-waits --wait seam.10:1023 --wait seam.10:1024:3 --await-go
//
// Sequence on stdout, like probemon-test-workload's: "ready pid=PID", then
// "attached" once wait__done's semaphore is raised, "go" after a line on
// stdin (--await-go); then for each key counter__register (kind 0) and for
// each wait (KEY:NS[:COUNT]) wait__start and wait__done, key ids numbered
// from 1 in order of first appearance; each --counter KEY=VALUE is a
// DynamicCounter's life (counter__register, dynamic__value,
// counter__unregister); "done", and with --await-detach "detached" once the
// semaphore is 0 again. Each probe fires only while attached, as in the
// library. Exit status 0; 2 on bad arguments; 3 if attach or detach is not
// seen in 30 s.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>
#include <CLI/CLI.hpp>

#include "probemon_abi.h"
#include "probes.h"

namespace {

using namespace std::chrono_literals;

struct Wait {
  std::string key;
  std::uint64_t duration_ns = 0;
  std::uint64_t count = 1;
};

// KEY:NS or KEY:NS:COUNT; the key may contain ':' (numbers are taken from
// the right).
bool parseWait(const std::string& text, Wait& wait) {
  std::vector<std::uint64_t> numbers;
  std::string_view rest = text;
  for (int i = 0; i < 2; ++i) {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) break;
    std::uint64_t number = 0;
    const std::string_view digits = rest.substr(colon + 1);
    const auto [end, ec] = std::from_chars(digits.begin(), digits.end(), number);
    if (ec != std::errc() || end != digits.end() || digits.empty()) break;
    numbers.insert(numbers.begin(), number);
    rest = rest.substr(0, colon);
  }
  if (numbers.empty() || rest.empty()) return false;
  wait.key = std::string(rest);
  wait.duration_ns = numbers[0];
  wait.count = numbers.size() == 2 ? numbers[1] : 1;
  return true;
}

bool waitFor(bool attached) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (PROBEMON_PROBE_ENABLED(wait__done) != attached) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// CLOCK_MONOTONIC, the probe ABI's clock (libstdc++'s steady_clock).
std::uint64_t monotonicNs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fires probemon:wait__done with exact durations, for the tool's tests"};
  std::vector<std::string> wait_texts;
  std::vector<std::string> counter_texts;
  bool await_go = false;
  bool await_detach = false;
  app.add_option("--wait", wait_texts, "KEY:NS[:COUNT]: COUNT waits of exactly NS ns on KEY")
      ->required();
  app.add_option("--counter", counter_texts, "KEY=VALUE: a DynamicCounter read once");
  app.add_flag("--await-go", await_go, "after attach, wait for a line on stdin");
  app.add_flag("--await-detach", await_detach, "before exiting, wait for the probe's detach");
  CLI11_PARSE(app, argc, argv);
  std::vector<Wait> waits(wait_texts.size());
  for (std::size_t i = 0; i < waits.size(); ++i) {
    if (!parseWait(wait_texts[i], waits[i])) {
      std::cerr << "bad --wait '" << wait_texts[i] << "': want KEY:NS[:COUNT]\n";
      return 2;
    }
  }
  std::vector<std::pair<std::string, std::int64_t>> counters;
  for (const auto& text : counter_texts) {
    const auto equals = text.rfind('=');
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    if (equals == std::string::npos || equals == 0 ||
        std::from_chars(text.data() + equals + 1, end, value).ptr != end) {
      std::cerr << "bad --counter '" << text << "': want KEY=VALUE\n";
      return 2;
    }
    counters.emplace_back(text.substr(0, equals), value);
  }
  std::map<std::string, std::uint64_t> key_ids;

  std::cout << "ready pid=" << ::getpid() << std::endl;
  if (!waitFor(true)) {
    std::cerr << "wait__done was not attached within 30 s\n";
    return 3;
  }
  std::cout << "attached" << std::endl;
  if (await_go) {
    std::string line;
    if (!std::getline(std::cin, line)) return 3;
    std::cout << "go" << std::endl;
  }
  // A key's id, registered (as a wait counter key) when first used.
  const auto keyId = [&](const std::string& key, int kind) {
    const auto [it, added] = key_ids.emplace(key, key_ids.size() + 1);
    if (added && PROBEMON_PROBE_ENABLED(counter__register)) {
      PROBEMON_PROBE(counter__register, key.c_str(), it->second, kind);
    }
    return it->second;
  };
  std::uint64_t wait_id = 0;
  for (const Wait& wait : waits) {
    const std::uint64_t key_id = keyId(wait.key, PROBEMON_KIND_WAIT_COUNTER);
    for (std::uint64_t i = 0; i < wait.count; ++i) {
      const std::uint64_t now = monotonicNs();
      const std::uint64_t start_ns = now > wait.duration_ns ? now - wait.duration_ns : 0;
      ++wait_id;
      if (PROBEMON_PROBE_ENABLED(wait__start)) {
        PROBEMON_PROBE(wait__start, wait.key.c_str(), key_id, wait_id, start_ns);
      }
      if (PROBEMON_PROBE_ENABLED(wait__done)) {
        PROBEMON_PROBE(wait__done, wait.key.c_str(), key_id, wait_id, start_ns, wait.duration_ns);
      }
    }
  }
  for (const auto& [key, value] : counters) {
    const std::uint64_t key_id = keyId(key, PROBEMON_KIND_DYNAMIC_COUNTER);
    if (PROBEMON_PROBE_ENABLED(dynamic__value)) {
      PROBEMON_PROBE(dynamic__value, key.c_str(), key_id, value);
    }
    if (PROBEMON_PROBE_ENABLED(counter__unregister)) {
      PROBEMON_PROBE(counter__unregister, key.c_str(), key_id, PROBEMON_KIND_DYNAMIC_COUNTER);
    }
  }
  std::cout << "done" << std::endl;
  if (await_detach) {
    if (!waitFor(false)) {
      std::cerr << "wait__done still attached after 30 s\n";
      return 3;
    }
    std::cout << "detached" << std::endl;
  }
  return 0;
}
