// SPDX-License-Identifier: BSD-3-Clause
#include "ToolProcess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>

extern char** environ;

namespace probemon::bench {

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

ToolProcess::ToolProcess(const std::vector<std::string>& args) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  std::vector<char*> argv;
  argv.reserve(args.size() + 1);
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  started_ = Clock::now();
  if (::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    throw std::runtime_error("cannot start " + args[0]);
  }
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  err_ = pipe_fds[0];
}

ToolProcess::~ToolProcess() {
  if (pid_ > 0) finish(SIGKILL);
  ::close(err_);
}

double ToolProcess::waitAttached() {
  char buffer[512];
  while (seen_.find("Tracing") == std::string::npos) {
    pollfd fd{err_, POLLIN, 0};
    if (::poll(&fd, 1, 10000) <= 0) throw std::runtime_error("the tool did not attach");
    const ssize_t n = ::read(err_, buffer, sizeof(buffer));
    if (n <= 0) throw std::runtime_error("the tool failed: " + seen_);
    seen_.append(buffer, static_cast<std::size_t>(n));
  }
  return std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
}

double ToolProcess::finish(int signo) {
  if (signo != 0) ::kill(pid_, signo);
  int status = 0;
  rusage usage{};
  ::wait4(pid_, &status, 0, &usage);
  pid_ = -1;
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

}  // namespace probemon::bench
