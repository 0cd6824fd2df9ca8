// SPDX-License-Identifier: BSD-3-Clause
#include "Session.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "Attachment.h"
#include "Error.h"
#include "escaping/Escaping.h"

namespace probemon::tool {
namespace {

sigset_t stopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

[[noreturn]] void systemCallFailed(const char* call) {
  throw ToolError(std::string(call) + ": " + std::strerror(errno));
}

// A periodic CLOCK_MONOTONIC timer, or none (-1) for no ticks.
Fd tickTimer(double tick_s) {
  if (tick_s <= 0) return Fd();
  Fd fd(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC));
  if (fd.get() < 0) systemCallFailed("timerfd_create");
  const auto ns = static_cast<long long>(std::llround(tick_s * 1e9));
  itimerspec spec{};
  spec.it_interval.tv_sec = ns / 1'000'000'000;
  spec.it_interval.tv_nsec = ns % 1'000'000'000;
  spec.it_value = spec.it_interval;
  if (::timerfd_settime(fd.get(), 0, &spec, nullptr) != 0) systemCallFailed("timerfd_settime");
  return fd;
}

}  // namespace

void blockStopSignals() {
  const sigset_t set = stopSignals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

Session::Session(const TargetSpec& target, double duration_s)
    : target_(resolveTarget(target)), duration_s_(duration_s) {
  const sigset_t set = stopSignals();
  signal_fd_ = Fd(::signalfd(-1, &set, SFD_CLOEXEC));
  if (signal_fd_.get() < 0) systemCallFailed("signalfd");
}

void Session::throwIfStopped() const {
  pollfd signal{signal_fd_.get(), POLLIN, 0};
  if (::poll(&signal, 1, 0) == 1) {
    throw ToolError("interrupted before every probe was attached: nothing was traced");
  }
}

void Session::watch(int fd, std::function<void()> on_ready) {
  watched_fd_ = fd;
  on_watched_ = std::move(on_ready);
}

void Session::beforeDetach(std::function<void(const char* end)> collect) {
  before_detach_.push_back(std::move(collect));
}

void Session::run(const Display& display) {
  std::fprintf(stderr, "Tracing probemon %s in %s... Hit Ctrl-C to end.\n", display.what,
               detail::terminalText(target_.describe()).c_str());
  if (display.announced) display.announced();
  const char* end = loop(display);
  for (const auto& collect : before_detach_) collect(end);
  // Last attached, first detached, as within each Attachment.
  for (auto attachment = attachments_.rbegin(); attachment != attachments_.rend(); ++attachment) {
    (*attachment)->detach();
  }
  display.render(end);
}

const char* Session::loop(const Display& display) {
  using Clock = std::chrono::steady_clock;
  const bool bounded = duration_s_ > 0;
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(bounded ? duration_s_ : 0));
  const Fd timer = tickTimer(display.every_s);
  enum { kSignal, kPid, kTimer, kWatched };
  // poll() ignores entries whose fd is negative.
  pollfd fds[] = {{signal_fd_.get(), POLLIN, 0},
                  {target_.pid_fd.get(), POLLIN, 0},
                  {timer.get(), POLLIN, 0},
                  {watched_fd_, POLLIN, 0}};
  for (;;) {
    int timeout_ms = -1;
    if (bounded) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return "duration over";
      timeout_ms = static_cast<int>(left.count());
    }
    if (::poll(fds, 4, timeout_ms) < 0) {
      if (errno == EINTR) continue;
      systemCallFailed("poll");
    }
    if (fds[kWatched].revents & POLLIN) on_watched_();
    if (fds[kSignal].revents & POLLIN) return "interrupted";
    if (fds[kPid].revents & POLLIN) {
      if (!display.target_exited) return "target exited";
      display.target_exited();
      fds[kPid].fd = -1;  // stays readable: poll it no more
    }
    if (fds[kTimer].revents & POLLIN) {
      std::uint64_t expirations = 0;
      if (::read(timer.get(), &expirations, sizeof(expirations)) > 0) display.render(nullptr);
    }
  }
}

}  // namespace probemon::tool
