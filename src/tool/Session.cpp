#include "Session.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>

#include "Error.h"

namespace probemon::tool {
namespace {

sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// A periodic CLOCK_MONOTONIC timer, or -1 for no ticks.
int tickTimer(double tick_s) {
  if (tick_s <= 0) return -1;
  const int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
  if (fd < 0) throw ToolError(std::string("timerfd_create: ") + std::strerror(errno));
  const auto ns = static_cast<long long>(std::llround(tick_s * 1e9));
  itimerspec spec{};
  spec.it_interval.tv_sec = ns / 1'000'000'000;
  spec.it_interval.tv_nsec = ns % 1'000'000'000;
  spec.it_value = spec.it_interval;
  ::timerfd_settime(fd, 0, &spec, nullptr);
  return fd;
}

}  // namespace

const char* describe(EndReason reason) {
  switch (reason) {
    case EndReason::Interrupted:
      return "interrupted";
    case EndReason::DurationOver:
      return "duration over";
    case EndReason::TargetExited:
      return "target exited";
  }
  return "";
}

void blockStopSignals() {
  const sigset_t set = stopSignals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

Session::Session(const Options& options, const Target& target) : options_(options) {
  const sigset_t set = stopSignals();
  signal_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
  if (signal_fd_ < 0) throw ToolError(std::string("signalfd: ") + std::strerror(errno));
  if (target.pid > 0) {
    pid_fd_ = static_cast<int>(::syscall(SYS_pidfd_open, target.pid, 0));
    if (pid_fd_ < 0 && errno == ESRCH) {
      throw ToolError("process " + std::to_string(target.pid) + " exited before attach");
    }
  }
}

Session::~Session() {
  for (int fd : {signal_fd_, pid_fd_}) {
    if (fd >= 0) ::close(fd);
  }
}

void Session::watch(int fd, std::function<void()> on_ready) {
  watched_fd_ = fd;
  on_watched_ = std::move(on_ready);
}

EndReason Session::run(double tick_s, const std::function<void()>& on_tick) {
  using Clock = std::chrono::steady_clock;
  const bool bounded = options_.duration_s > 0;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(bounded ? options_.duration_s : 0));
  const int timer_fd = tickTimer(tick_s);
  enum { kSignal, kPid, kTimer, kWatched };
  pollfd fds[] = {{signal_fd_, POLLIN, 0},
                  {pid_fd_, POLLIN, 0},
                  {timer_fd, POLLIN, 0},
                  {watched_fd_, POLLIN, 0}};
  EndReason reason = EndReason::Interrupted;
  for (;;) {
    int timeout_ms = -1;
    if (bounded) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        reason = EndReason::DurationOver;
        break;
      }
      timeout_ms = static_cast<int>(left.count());
    }
    // poll() ignores entries whose fd is negative.
    if (::poll(fds, 4, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      throw ToolError(std::string("poll: ") + std::strerror(errno));
    }
    if (fds[kWatched].revents & POLLIN) on_watched_();
    if (fds[kSignal].revents & POLLIN) {
      reason = EndReason::Interrupted;
      break;
    }
    if (fds[kPid].revents & POLLIN) {
      reason = EndReason::TargetExited;
      break;
    }
    if (fds[kTimer].revents & POLLIN) {
      std::uint64_t expirations = 0;
      if (::read(timer_fd, &expirations, sizeof(expirations)) > 0) on_tick();
    }
  }
  if (timer_fd >= 0) ::close(timer_fd);
  return reason;
}

}  // namespace probemon::tool
