// SPDX-License-Identifier: BSD-3-Clause
// probemon-test-workload: a workload with exactly known waits and counters,
// for the tests that attach real tracers (bpftrace, perf, gdb, probemon).
//
//   probemon-test-workload --await-attach wait__done --plan test.a:10:5
//       --plan test.b:3:20 --threads 2 --await-detach
//
// Sequence, each step printed on stdout as it happens:
//   ready pid=PID                 at start (after opening the --open-early waits
//                                 and starting the --busy threads; with --fork,
//                                 printed by the child only)
//   attached                      once every --await-attach probe is enabled
//   go                            a line was read on stdin (--await-go)
//   hold key=K tid=TID            a --hold wait is open (from its own thread)
//   built K.other while K was read  a --blocking-counter K is in its callback
//                                 and another DynamicCounter came and went
//   left open key=K tid=TID       a --leave-open wait is open and stays so
//   done                          plans, holds and --linger-ms are over, the
//                                 --busy threads stopped and the
//                                 DynamicCounters destroyed
//   exec                          with --exec: waiting for a line on stdin,
//                                 then the process executes itself again with
//                                 --exec's arguments (the same pid, a new image,
//                                 which prints its own sequence)
//   detached                      every probemon semaphore reads 0 again
// Exit status: 0; 2 on bad arguments; 3 if attach, detach or a
// --blocking-counter's read is not seen in --timeout-s seconds, or stdin
// closes before a line, or --as-pid's pid is taken. With --fork or --as-pid,
// the parent exits with the child's status.
//
// A semaphore is raised when the uprobe is registered, a moment before a BPF
// program is attached to it, so a test that needs every event to reach a BPF
// tracer waits for the tracer to say it is ready (bpftrace's BEGIN runs after
// every probe is attached) and then sends the line --await-go waits for.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <probemon/DynamicCounter.h>
#include <probemon/WaitCounter.h>
#include <probemon/detail/ProbeState.h>
#include <CLI/CLI.hpp>

namespace {

using namespace std::chrono_literals;

using probemon::detail::Probe;

const std::map<std::string, Probe>& probesByName() {
  static const std::map<std::string, Probe> all = {
      {"wait__start", Probe::WaitStart},
      {"wait__done", Probe::WaitDone},
      {"counter__register", Probe::CounterRegister},
      {"counter__unregister", Probe::CounterUnregister},
      {"dynamic__value", Probe::DynamicValue},
      {"wait__batch", Probe::WaitBatch},
  };
  return all;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct Plan {
  std::string key;
  std::int64_t count = 1;
  std::int64_t sleep_ms = 0;
};

std::optional<std::int64_t> toInt(std::string_view text) {
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.begin(), text.end(), value);
  if (ec != std::errc() || ptr != text.end()) return std::nullopt;
  return value;
}

// Splits "KEY<sep>N1<sep>N2..." into the key and `n` integers taken from the
// right, so keys may contain the separator.
std::optional<std::pair<std::string, std::vector<std::int64_t>>> parseSpec(std::string_view text,
                                                                           char sep, int n) {
  std::vector<std::int64_t> numbers(static_cast<std::size_t>(n));
  for (int i = n - 1; i >= 0; --i) {
    const auto at = text.rfind(sep);
    if (at == std::string_view::npos || at == 0) return std::nullopt;
    const auto number = toInt(text.substr(at + 1));
    if (!number) return std::nullopt;
    numbers[static_cast<std::size_t>(i)] = *number;
    text = text.substr(0, at);
  }
  return std::pair{std::string(text), numbers};
}

// The KEY=VALUE specs of `option`; nullopt, having said why, if one is bad.
std::optional<std::vector<std::pair<std::string, std::int64_t>>> parseCounters(
    const std::vector<std::string>& texts, const char* option) {
  std::vector<std::pair<std::string, std::int64_t>> specs;
  for (const auto& text : texts) {
    const auto spec = parseSpec(text, '=', 1);
    if (!spec) {
      std::cerr << "bad " << option << " '" << text << "': want KEY=VALUE\n";
      return std::nullopt;
    }
    specs.emplace_back(spec->first, spec->second[0]);
  }
  return specs;
}

// A backend that ignores what it is told: with it every wait is timed, as in
// a process with a real backend, whether or not a tracer is attached. A slow
// one sleeps in start() and stop(), which tracers must not count as waiting.
class IgnoringBackend final : public probemon::detail::WaitCounterBackendIf {
 public:
  explicit IgnoringBackend(std::chrono::milliseconds delay) : delay_(delay) {}
  std::intptr_t start(std::chrono::steady_clock::time_point /*now*/) noexcept override {
    std::this_thread::sleep_for(delay_);
    return 0;
  }
  void stop(std::chrono::steady_clock::time_point /*now*/,
            std::intptr_t /*ctx*/) noexcept override {
    std::this_thread::sleep_for(delay_);
  }

 private:
  std::chrono::milliseconds delay_;
};

class IgnoringFactory final : public probemon::detail::WaitCounterBackendFactoryIf {
 public:
  explicit IgnoringFactory(std::chrono::milliseconds delay) : delay_(delay) {}
  std::unique_ptr<probemon::detail::WaitCounterBackendIf> create(
      std::string_view /*key*/) noexcept override {
    return std::make_unique<IgnoringBackend>(delay_);
  }

 private:
  std::chrono::milliseconds delay_;
};

void say(const std::string& line) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::cout << line << std::endl;
}

// Waits for a line on stdin; false (having said why) if stdin closes first.
bool readLine(const char* before) {
  std::string line;
  if (std::getline(std::cin, line)) return true;
  std::cerr << "stdin closed before " << before << "\n";
  return false;
}

// The exit status of `child` as this process's own.
int statusOf(pid_t child) {
  int status = 0;
  if (::waitpid(child, &status, 0) != child) return 3;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Executes this program again, in this process, with `args` (split at
// spaces). Returns only if exec fails.
int execSelf(const char* argv0, const std::string& args) {
  std::vector<std::string> words;
  std::istringstream split(args);
  for (std::string word; split >> word;) words.push_back(word);
  std::vector<char*> argv = {const_cast<char*>(argv0)};
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  ::execv("/proc/self/exe", argv.data());
  std::cerr << "exec failed: " << std::strerror(errno) << "\n";
  return 3;
}

// --as-pid: runs the rest of this program as process `pid` (a pid that an
// exited process had, to test its reuse): clone3 with set_tid (root), and the
// child executes the program again without --as-pid, so it starts clean.
int runAsPid(pid_t pid, char** argv) {
  clone_args args{};
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<std::uintptr_t>(&pid);
  args.set_tid_size = 1;
  const long child = ::syscall(SYS_clone3, &args, sizeof(args));
  if (child < 0) {
    std::cerr << "cannot start a process with pid " << pid << ": " << std::strerror(errno) << "\n";
    return 3;
  }
  if (child > 0) return statusOf(static_cast<pid_t>(child));
  std::string rest;
  for (char** arg = argv + 1; *arg != nullptr; ++arg) {
    if (std::strcmp(*arg, "--as-pid") == 0 && arg[1] != nullptr) {
      ++arg;
      continue;
    }
    rest += std::string(*arg) + " ";
  }
  ::_exit(execSelf(argv[0], rest));
}

// A DynamicCounter whose first read blocks until the program has built and
// destroyed another DynamicCounter while the read is in progress: a sampler
// that held a lock across the callback would stall that construction.
class BlockingCounter {
 public:
  explicit BlockingCounter(const std::string& key)
      : key_(key), counter_(key, [this] { return read(); }) {}

  // Builds and destroys `key.other` once the first read is in progress, then
  // lets that read return. False if no read began within `timeout`.
  bool buildAnotherDuringARead(std::chrono::seconds timeout) {
    std::unique_lock lock(mu_);
    if (!changed_.wait_for(lock, timeout, [this] { return reading_; })) return false;
    lock.unlock();
    {
      probemon::DynamicCounter other(key_ + ".other", [] { return 1; });
    }
    say("built " + key_ + ".other while " + key_ + " was read");
    lock.lock();
    released_ = true;
    changed_.notify_all();
    return true;
  }

 private:
  std::int64_t read() {
    std::unique_lock lock(mu_);
    reading_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
    return 1;
  }

  const std::string key_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool reading_ = false;
  bool released_ = false;
  probemon::DynamicCounter counter_;  // last: destroyed first, while mu_ lives
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"workload with known waits for probemon's tracer tests"};
  std::vector<std::string> plan_texts;
  std::vector<std::string> counter_texts;
  std::vector<std::string> nesting_texts;
  std::string blocking_key;
  std::vector<std::string> hold_texts;
  std::vector<std::string> early_keys;
  std::vector<std::string> await_probes;
  std::vector<std::string> busy_texts;
  std::string leave_open_key;
  std::string exec_args;
  int as_pid = 0;
  int threads = 1;
  int linger_ms = 0;
  int slow_backend_ms = -1;
  int timeout_s = 30;
  bool await_detach = false;
  bool await_go = false;
  bool backend = false;
  bool fork_first = false;
  app.add_option("--plan", plan_texts,
                 "KEY:COUNT:SLEEP_MS: COUNT waits on KEY, each sleeping SLEEP_MS, per thread");
  app.add_option("--threads", threads, "threads running every plan")->check(CLI::Range(1, 64));
  app.add_option("--counter", counter_texts, "KEY=VALUE: a DynamicCounter returning VALUE");
  app.add_option("--nesting-counter", nesting_texts,
                 "KEY=VALUE: a DynamicCounter returning VALUE whose callback builds and "
                 "destroys the DynamicCounter KEY.inner at every read");
  app.add_option("--blocking-counter", blocking_key,
                 "KEY: a DynamicCounter whose first read blocks until another DynamicCounter, "
                 "KEY.other, was built and destroyed (needs dynamic__value attached)");
  app.add_flag("--fork", fork_first,
               "build the --counter DynamicCounters, then fork: the child runs the rest, the "
               "parent waits for it");
  app.add_option("--hold", hold_texts,
                 "KEY:MS: one wait on KEY held open MS ms, on its own thread");
  app.add_option("--busy", busy_texts,
                 "KEY:US: one thread doing back-to-back waits on KEY of US microseconds each, "
                 "from before 'ready' until the plans and holds are over");
  app.add_option("--leave-open", leave_open_key,
                 "KEY: after the plans, one wait on KEY opened and never stopped");
  app.add_option("--exec", exec_args,
                 "ARGS: after 'done', wait for a line on stdin and execute this program again "
                 "with ARGS (split at spaces) in this process");
  app.add_option("--as-pid", as_pid,
                 "run as process PID (root; to reuse the pid of one that exited)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--backend", backend, "register a backend that ignores every wait");
  app.add_option("--slow-backend", slow_backend_ms,
                 "MS: register a backend that sleeps MS ms in start() and in stop()")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--open-early", early_keys,
                 "KEY: one wait on KEY opened before 'ready' and stopped when the plans "
                 "start, so a tracer attached meanwhile sees only its end");
  app.add_option("--await-attach", await_probes,
                 "probe whose semaphore must be set before starting")
      ->check(CLI::IsMember({"wait__start", "wait__done", "counter__register",
                             "counter__unregister", "dynamic__value", "wait__batch"}));
  app.add_option("--linger-ms", linger_ms,
                 "after its plans each thread stays alive this long; counters stay live")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--await-go", await_go, "after attach, wait for a line on stdin before starting");
  app.add_flag("--await-detach", await_detach, "before exiting, wait until every semaphore is 0");
  app.add_option("--timeout-s", timeout_s, "give up waiting for attach/detach after this long")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (as_pid != 0) return runAsPid(as_pid, argv);

  std::vector<Plan> plans;
  for (const auto& text : plan_texts) {
    const auto spec = parseSpec(text, ':', 2);
    if (!spec || spec->second[0] < 0 || spec->second[1] < 0) {
      std::cerr << "bad --plan '" << text << "': want KEY:COUNT:SLEEP_MS\n";
      return 2;
    }
    plans.push_back({spec->first, spec->second[0], spec->second[1]});
  }
  const auto counter_specs = parseCounters(counter_texts, "--counter");
  const auto nesting_specs = parseCounters(nesting_texts, "--nesting-counter");
  if (!counter_specs || !nesting_specs) return 2;
  std::vector<Plan> holds;
  for (const auto& text : hold_texts) {
    const auto spec = parseSpec(text, ':', 1);
    if (!spec || spec->second[0] < 0) {
      std::cerr << "bad --hold '" << text << "': want KEY:MS\n";
      return 2;
    }
    holds.push_back({spec->first, 1, spec->second[0]});
  }
  std::vector<Plan> busy;  // sleep_ms holds microseconds here
  for (const auto& text : busy_texts) {
    const auto spec = parseSpec(text, ':', 1);
    if (!spec || spec->second[0] < 0) {
      std::cerr << "bad --busy '" << text << "': want KEY:US\n";
      return 2;
    }
    busy.push_back({spec->first, 0, spec->second[0]});
  }

  if (backend || slow_backend_ms >= 0) {
    probemon::detail::registerWaitCounterBackend(std::make_unique<IgnoringFactory>(
        std::chrono::milliseconds(std::max(slow_backend_ms, 0))));
  }
  std::vector<std::unique_ptr<probemon::DynamicCounter>> counters;
  auto buildCounters = [&] {
    for (const auto& [key, value] : *counter_specs) {
      counters.push_back(
          std::make_unique<probemon::DynamicCounter>(key, [value = value] { return value; }));
    }
  };
  if (fork_first) {
    // The child inherits counters whose sampler thread it does not have.
    buildCounters();
    const pid_t child = ::fork();
    if (child < 0) {
      std::cerr << "fork failed\n";
      return 3;
    }
    if (child > 0) return statusOf(child);
  }
  std::atomic<bool> busy_over{false};
  std::vector<std::jthread> busy_threads;
  for (const auto& b : busy) {
    busy_threads.emplace_back([&busy_over, b] {
      probemon::WaitCounterHandle handle(b.key);
      while (!busy_over.load(std::memory_order_relaxed)) {
        auto guard = handle.start();
        std::this_thread::sleep_for(std::chrono::microseconds(b.sleep_ms));
      }
    });
  }
  std::vector<probemon::WaitCounterHandle::WaitGuard> early;
  for (const auto& key : early_keys) early.push_back(probemon::WaitCounterHandle(key).start());
  say("ready pid=" + std::to_string(::getpid()));
  if (!await_probes.empty()) {
    const bool attached = waitFor(
        [&] {
          return std::ranges::all_of(await_probes, [](const std::string& probe) {
            return probemon::detail::probeAttached(probesByName().at(probe));
          });
        },
        std::chrono::seconds(timeout_s));
    if (!attached) {
      std::cerr << "no tracer attached within " << timeout_s << " s\n";
      return 3;
    }
    say("attached");
  }
  if (await_go) {
    if (!readLine("the go line")) return 3;
    say("go");
  }
  early.clear();

  {
    if (!fork_first) buildCounters();
    for (const auto& [key, value] : *nesting_specs) {
      counters.push_back(
          std::make_unique<probemon::DynamicCounter>(key, [inner = key + ".inner", value = value] {
            probemon::DynamicCounter nested(inner, [] { return 0; });
            return value;
          }));
    }
    if (!blocking_key.empty()) {
      BlockingCounter blocking(blocking_key);
      if (!blocking.buildAnotherDuringARead(std::chrono::seconds(timeout_s))) {
        std::cerr << blocking_key << " was not read within " << timeout_s << " s\n";
        return 3;
      }
    }
    std::vector<std::jthread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&plans, linger_ms] {
        for (const auto& plan : plans) {
          probemon::WaitCounterHandle handle(plan.key);
          for (std::int64_t i = 0; i < plan.count; ++i) {
            auto guard = handle.start();
            std::this_thread::sleep_for(std::chrono::milliseconds(plan.sleep_ms));
          }
        }
        // Lingering here keeps the threads alive too, so a tracer can still
        // resolve their stacks.
        std::this_thread::sleep_for(std::chrono::milliseconds(linger_ms));
      });
    }
    for (const auto& hold : holds) {
      workers.emplace_back([hold] {
        auto guard = probemon::WaitCounterHandle(hold.key).start();
        say("hold key=" + hold.key + " tid=" + std::to_string(::syscall(SYS_gettid)));
        std::this_thread::sleep_for(std::chrono::milliseconds(hold.sleep_ms));
      });
    }
    workers.clear();
    if (!leave_open_key.empty()) {
      // Leaked: to the library this wait is open until the process ends.
      // NOLINTNEXTLINE(cppcoreguidelines-owning-memory): leaked on purpose
      new probemon::WaitCounterHandle::WaitGuard(
          probemon::WaitCounterHandle(leave_open_key).start());
      say("left open key=" + leave_open_key + " tid=" + std::to_string(::syscall(SYS_gettid)));
    }
    busy_over = true;
    busy_threads.clear();
    counters.clear();
  }
  say("done");
  if (!exec_args.empty()) {
    say("exec");
    if (!readLine("the exec line")) return 3;
    return execSelf(argv[0], exec_args);
  }

  if (await_detach) {
    const bool detached = waitFor(
        [] {
          return std::ranges::none_of(probesByName(), [](const auto& named) {
            return probemon::detail::probeAttached(named.second);
          });
        },
        std::chrono::seconds(timeout_s));
    if (!detached) {
      std::cerr << "semaphores still set after " << timeout_s << " s\n";
      return 3;
    }
    say("detached");
  }
  return 0;
}
