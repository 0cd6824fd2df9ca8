// SPDX-License-Identifier: BSD-3-Clause
// probemon-test-rogue: a traced process that misbehaves on purpose, for the
// tool's hardening tests. It declares its own probemon:wait__done (with
// sys/sdt.h, in libprobemon's argument order: key, key_id, wait_id,
// start_ns, duration_ns) and fires it when told on stdin:
//
//   cold   three waits of key_id 1, whose key string ("rogue.cold") lies in
//          a file mapping no one has touched yet, so a BPF program cannot
//          read it (no page is mapped); prints "fired cold"
//   warm   touches that page, then two more waits of the same key; prints
//          "fired warm"
//
// It prints "ready pid=N" first and exits 0 at the end of stdin.
//
// Built three ways (tests/CMakeLists.txt): as is; with
// PROBEMON_ROGUE_SHORT_ARGS, whose wait__done has two arguments instead of
// five (not libprobemon's); and with PROBEMON_ROGUE_MANY_SITES, which has
// 3,000 wait__done sites (a uprobe each).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

// CLOCK_MONOTONIC, the clock of libprobemon's start_ns.
std::uint64_t nowNs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

#if defined(PROBEMON_ROGUE_SHORT_ARGS)
#define ROGUE_WAIT(key, key_id, wait_id, start_ns) STAP_PROBE2(probemon, wait__done, key, key_id)
#else
#define ROGUE_WAIT(key, key_id, wait_id, start_ns) \
  STAP_PROBE5(probemon, wait__done, key, key_id, wait_id, start_ns, 1000)
#endif

std::uint64_t next_wait_id = 1;
volatile bool never = false;

void fire(const char* key, std::uint64_t key_id, int times) {
  for (int i = 0; i < times; ++i) {
    // Unused by the two-argument probe.
    [[maybe_unused]] const std::uint64_t wait_id = next_wait_id++;
    [[maybe_unused]] const std::uint64_t start_ns = nowNs();
    ROGUE_WAIT(key, key_id, wait_id, start_ns);
#if defined(PROBEMON_ROGUE_MANY_SITES)
#define ROGUE_SITE ROGUE_WAIT(key, key_id, wait_id, start_ns);
#define ROGUE_10                                                                          \
  ROGUE_SITE ROGUE_SITE ROGUE_SITE ROGUE_SITE ROGUE_SITE ROGUE_SITE ROGUE_SITE ROGUE_SITE \
      ROGUE_SITE ROGUE_SITE
#define ROGUE_100 \
  ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10 ROGUE_10
#define ROGUE_1000                                                                          \
  ROGUE_100 ROGUE_100 ROGUE_100 ROGUE_100 ROGUE_100 ROGUE_100 ROGUE_100 ROGUE_100 ROGUE_100 \
      ROGUE_100
    if (never) {  // the sites only need to exist
      ROGUE_1000 ROGUE_1000 ROGUE_1000
    }
#endif
  }
}

// "rogue.cold" in a page of a fresh file mapping that nothing has read: the
// page is in the page cache, but not mapped in this process until touched.
const char* coldKey() {
  char path[] = "/tmp/probemon-rogue-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) std::abort();
  ::unlink(path);
  static const char kKey[] = "rogue.cold";
  if (::write(fd, kKey, sizeof(kKey)) != static_cast<ssize_t>(sizeof(kKey))) std::abort();
  void* page = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  if (page == MAP_FAILED) std::abort();
  ::close(fd);
  return static_cast<const char*>(page);
}

}  // namespace

int main() {
  const char* cold = coldKey();
  std::cout << "ready pid=" << ::getpid() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == "cold") {
      fire(cold, 1, 3);
    } else if (line == "warm") {
      volatile char touch = cold[0];  // maps the page
      (void)touch;
      fire(cold, 1, 2);
    } else {
      std::cerr << "unknown command: " << line << "\n";
      return 2;
    }
    std::cout << "fired " << line << std::endl;
  }
  return 0;
}
