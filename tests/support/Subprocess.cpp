// SPDX-License-Identifier: BSD-3-Clause
#include "Subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace probemon::test {
namespace {

using Clock = std::chrono::steady_clock;

void makePipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
  }
}

int decodeStatus(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}

bool onPath(const std::string& tool) {
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    const auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / tool;
    if (::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace

Subprocess::Subprocess(std::vector<std::string> argv) {
  int in[2];
  int out[2];
  int err[2];
  makePipe(in);
  makePipe(out);
  makePipe(err);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) {
    throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  }
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::execvp(args[0], args.data());
    const std::string msg = std::string("exec ") + args[0] + ": " + std::strerror(errno) + "\n";
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  in_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
}

Subprocess::~Subprocess() {
  if (in_ >= 0) ::close(in_);
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int raw = 0;
    ::waitpid(pid_, &raw, 0);
  }
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
}

void Subprocess::writeStdin(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(in_, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("write to child stdin: ") + std::strerror(errno));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

void Subprocess::closeStdin() {
  if (in_ >= 0) {
    ::close(in_);
    in_ = -1;
  }
}

void Subprocess::signal(int signo) {
  if (!status_) ::kill(pid_, signo);
}

bool Subprocess::pump(Clock::time_point deadline) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  const int nfds = 2;
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  const int ready = ::poll(fds, nfds, static_cast<int>(left.count()));
  if (ready <= 0) return ready < 0 && errno == EINTR;
  int* fd_of[2] = {&out_fd_, &err_fd_};
  std::string* buf_of[2] = {&out_, &err_};
  for (int i = 0; i < nfds; ++i) {
    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
    if (n > 0) {
      buf_of[i]->append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      ::close(*fd_of[i]);
      *fd_of[i] = -1;
    }
  }
  return true;
}

std::optional<std::string> Subprocess::waitForLine(const std::regex& pattern,
                                                   std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    for (std::size_t nl; (nl = out_.find('\n', scanned_)) != std::string::npos;) {
      std::string line = out_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      if (std::regex_search(line, pattern)) return line;
    }
    if (!pump(deadline)) {
      if (out_fd_ < 0 || Clock::now() >= deadline) return std::nullopt;
    }
  }
}

std::optional<int> Subprocess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!status_) {
    // Drain output so a child blocked on a full pipe can finish.
    while ((out_fd_ >= 0 || err_fd_ >= 0) &&
           pump(std::min(deadline, Clock::now() + std::chrono::milliseconds(20)))) {
    }
    int raw = 0;
    const pid_t r = ::waitpid(pid_, &raw, WNOHANG);
    if (r == pid_) {
      status_ = decodeStatus(raw);
      break;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    if (out_fd_ < 0 && err_fd_ < 0) ::usleep(5000);
  }
  while (pump(Clock::now() + std::chrono::milliseconds(200))) {
  }
  return status_;
}

std::string Subprocess::describe() const {
  std::string text = "pid " + std::to_string(pid_);
  for (const char* file : {"status", "stack", "wchan"}) {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/" + file);
    std::string line;
    while (std::getline(in, line)) {
      if (std::string_view(file) != "status" || line.starts_with("State:")) {
        text += "\n  " + std::string(file) + ": " + line;
      }
    }
  }
  return text;
}

RunResult run(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  Subprocess p(std::move(argv));
  p.closeStdin();
  RunResult result;
  if (auto status = p.wait(timeout)) {
    result.status = *status;
  } else {
    p.signal(SIGKILL);
    p.wait(std::chrono::seconds(5));
  }
  result.out = p.out();
  result.err = p.err();
  return result;
}

std::optional<std::string> tracingUnavailable(const std::vector<std::string>& tools) {
  if (::geteuid() != 0) {
    return "needs root to attach uprobes and BPF programs (run as root, or in CI)";
  }
  const char* tracefs = "/sys/kernel/tracing";
  if (::access((std::string(tracefs) + "/uprobe_events").c_str(), F_OK) != 0 &&
      ::mount("nodev", tracefs, "tracefs", 0, nullptr) != 0) {
    return std::string("tracefs is not mounted at /sys/kernel/tracing and mounting it failed: ") +
           std::strerror(errno);
  }
  for (const auto& tool : tools) {
    if (!onPath(tool)) return tool + " is not installed";
  }
  return std::nullopt;
}

bool inCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

}  // namespace probemon::test
