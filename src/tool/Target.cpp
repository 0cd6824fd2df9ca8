// SPDX-License-Identifier: BSD-3-Clause
#include "Target.h"

#include <linux/capability.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "CanTrace.h"
#include "Error.h"

namespace probemon::tool {
namespace {

// A file mapped into a process, as /proc/PID/maps shows it.
struct Mapping {
  std::string file;     // "/usr/lib/libprobemon.so.0", with " (deleted)" if replaced on disk
  std::string address;  // "7f3c1a000000-7f3c1a004000": its first mapping's, for map_files/
};

// The files mapped into process `pid`, in order of first appearance.
std::vector<Mapping> mappedFiles(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream maps(path);
  if (!maps) {
    const std::string why = std::strerror(errno);
    throw ToolError("cannot read " + path + ": " + why +
                    (::geteuid() == 0 ? " (even as root: the kernel protects this process)"
                                      : ": run as root or as the owner of the process"));
  }
  std::vector<Mapping> files;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(maps, line)) {
    // address perms offset dev inode pathname; only file mappings have a '/'.
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string file = line.substr(slash);
    if (seen.insert(file).second)
      files.push_back({std::move(file), line.substr(0, line.find(' '))});
  }
  return files;
}

// What /proc/PID/stat says of a process: its state letter and whether it is
// a kernel thread; nullopt once it is gone.
struct ProcessState {
  char state;  // R, S, D, Z (zombie), X (dead), ...
  bool kernel_thread;
};

std::optional<ProcessState> processState(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // "pid (comm) state ppid pgrp session tty_nr tpgid flags ...": comm may
  // hold spaces and parentheses, so fields count from its last ')'.
  const auto paren = line.rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  std::istringstream fields(line.substr(paren + 1));
  char state = '?';
  long long skip = 0;
  unsigned long long flags = 0;
  fields >> state >> skip >> skip >> skip >> skip >> skip >> flags;
  if (!fields) return std::nullopt;
  constexpr unsigned long long kPfKthread = 0x00200000;  // PF_KTHREAD, include/linux/sched.h
  return ProcessState{state, (flags & kPfKthread) != 0};
}

// Throws what to say if process `pid` cannot run probes: it has exited (a
// zombie, or gone while the tool looked) or it is a kernel thread.
void checkRunsUserCode(int pid) {
  const std::string id = std::to_string(pid);
  const auto state = processState(pid);
  if (!state || state->state == 'Z' || state->state == 'X') {
    throw ToolError("process " + id + " has exited" +
                    (state ? " (a zombie its parent has not reaped)" : "") +
                    ": nothing left to trace");
  }
  if (state->kernel_thread) {
    throw ToolError(id +
                    " is a kernel thread: it runs no user code; give a process linked with "
                    "libprobemon");
  }
}

const char* fileKind(mode_t mode) {
  if (S_ISFIFO(mode)) return "a fifo";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

// A pidfd of process `pid`, which polls readable once it has exited.
Fd watchProcess(int pid) {
  Fd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (fd.get() >= 0) return fd;
  const std::string id = std::to_string(pid);
  if (errno == ESRCH) throw ToolError("no process with pid " + id + ": check the pid with ps");
  // A thread id: EINVAL before Linux 6.9, ENOENT since.
  if (errno == EINVAL || errno == ENOENT) {
    throw ToolError(id + " is a thread, not a process: give its process id (Tgid in /proc/" + id +
                    "/status)");
  }
  if (errno == ENOSYS) {
    throw ToolError("cannot watch process " + id +
                    " for its exit: this kernel has no pidfd_open (Linux 5.3 or later has)");
  }
  throw ToolError("cannot watch process " + id +
                  " for its exit: pidfd_open: " + std::strerror(errno));
}

Target processTarget(int pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  Target target;
  target.pid = pid;
  target.pid_fd = watchProcess(pid);
  checkRunsUserCode(pid);
  // Through the process's root, so objects inside a container resolve. The
  // kernel lets in only who may ptrace the process: checked here, before
  // every file in it reads as missing.
  const std::string root = proc + "/root";
  if (struct stat st;
      ::stat((root + "/").c_str(), &st) != 0 && (errno == EACCES || errno == EPERM)) {
    const std::string why = std::strerror(errno);
    throw ToolError("cannot read the files of process " + std::to_string(pid) + " through " + root +
                    ": " + why + ": " +
                    (hasCapability(CAP_SYS_PTRACE)
                         ? "even with CAP_SYS_PTRACE: the kernel protects this process (Yama's "
                           "ptrace_scope 3, a security module, or a user namespace)"
                         : kPrivilegeHint));
  }
  std::vector<std::string> unreadable;  // mapped files that could not be read, and why
  for (const auto& [file, address] : mappedFiles(pid)) {
    // A file replaced on disk (an upgrade) through the mapping itself, which
    // still holds the old file (and uprobes attach by file, not by name).
    const std::string path =
        file.ends_with(" (deleted)") ? proc + "/map_files/" + address : root + file;
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      // EACCES: not allowed into /proc/PID/root (see CanTrace.h). ENOENT:
      // unlinked since, or the process is going.
      if (errno != ENOENT) unreadable.push_back(file + ": " + std::strerror(errno));
      continue;
    }
    if (!S_ISREG(st.st_mode)) continue;
    std::vector<UsdtProbe> probes;
    try {
      probes = readUsdtProbes(path, kProvider);
    } catch (const NotElf&) {
      continue;  // a font, a locale archive: cannot hold probes
    } catch (const ToolError& e) {
      unreadable.push_back(e.what());
      continue;
    }
    if (!probes.empty()) target.objects.push_back({path, file, std::move(probes)});
  }
  if (target.objects.empty()) {
    checkRunsUserCode(pid);  // it may have exited meanwhile
    if (!unreadable.empty()) {
      throw ToolError("process " + std::to_string(pid) +
                      " has no probemon probes in the files probemon could read; it could not "
                      "read " +
                      unreadable.front() +
                      (unreadable.size() > 1
                           ? " (and " + std::to_string(unreadable.size() - 1) + " more)"
                           : ""));
    }
    throw ToolError("process " + std::to_string(pid) +
                    " has no probemon probes: link it with libprobemon built with USDT");
  }
  return target;
}

Target fileTarget(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      throw ToolError("no such file: " + path + ": give the executable or libprobemon.so");
    }
    throw ToolError("cannot read " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    throw ToolError(path + " is a directory: give the executable or libprobemon.so in it");
  }
  if (!S_ISREG(st.st_mode)) {
    throw ToolError(path + " is not a regular file (" + fileKind(st.st_mode) +
                    "): give the executable or libprobemon.so");
  }
  auto probes = readUsdtProbes(path, kProvider);
  if (probes.empty()) {
    throw ToolError(
        path + " has no probemon probes: give the executable or libprobemon.so that holds them");
  }
  Target target;
  target.objects.push_back({path, path, std::move(probes)});
  return target;
}

}  // namespace

std::string Target::describe() const {
  if (pid > 0) return "PID " + std::to_string(pid);
  return objects.front().shown_path + " (every process)";
}

bool Target::exited() const {
  if (pid_fd.get() < 0) return false;
  pollfd watched{pid_fd.get(), POLLIN, 0};
  if (::poll(&watched, 1, 0) == 1) return true;
  // Exiting but not yet reported by the pidfd: its memory is already gone.
  const auto state = processState(pid);
  return !state || state->state == 'Z' || state->state == 'X';
}

Target resolveTarget(const TargetSpec& spec) {
  return spec.pid != 0 ? processTarget(spec.pid) : fileTarget(spec.path);
}

}  // namespace probemon::tool
