// SPDX-License-Identifier: BSD-3-Clause
#include "Target.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fstream>
#include <set>

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

bool isRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
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
  for (const auto& [file, address] : mappedFiles(pid)) {
    // Through the process's root, so objects inside a container resolve; a
    // file replaced on disk (an upgrade) through the mapping itself, which
    // still holds the old file (and uprobes attach by file, not by name).
    const std::string path =
        file.ends_with(" (deleted)") ? proc + "/map_files/" + address : proc + "/root" + file;
    if (!isRegularFile(path)) continue;
    std::vector<UsdtProbe> probes;
    try {
      probes = readUsdtProbes(path, kProvider);
    } catch (const ToolError&) {
      continue;  // not ELF (a font, a locale archive): cannot hold probes
    }
    if (!probes.empty()) target.objects.push_back({path, file, std::move(probes)});
  }
  if (target.objects.empty()) {
    throw ToolError("process " + std::to_string(pid) +
                    " has no probemon probes: link it with libprobemon built with USDT");
  }
  return target;
}

Target fileTarget(const std::string& path) {
  if (!isRegularFile(path)) {
    throw ToolError("no such file: " + path + ": give the executable or libprobemon.so");
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
  pollfd watched{pid_fd.get(), POLLIN, 0};
  return pid_fd.get() >= 0 && ::poll(&watched, 1, 0) == 1;
}

Target resolveTarget(const TargetSpec& spec) {
  return spec.pid != 0 ? processTarget(spec.pid) : fileTarget(spec.path);
}

}  // namespace probemon::tool
