#include "Target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fstream>
#include <set>

#include "Error.h"

namespace probemon::tool {
namespace {

// The file paths mapped into process `pid`, in order of first appearance.
std::vector<std::string> mappedFiles(int pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream maps(path);
  if (!maps) {
    const std::string why = std::strerror(errno);
    throw ToolError("cannot read " + path + ": " + why +
                    (::geteuid() == 0 ? " (even as root: the kernel protects this process)"
                                      : ": run as root or as the owner of the process"));
  }
  std::vector<std::string> files;
  std::set<std::string> seen;
  std::string line;
  while (std::getline(maps, line)) {
    // address perms offset dev inode pathname; only file mappings have a '/'.
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string file = line.substr(slash);
    if (file.ends_with(" (deleted)")) continue;  // replaced on disk: nothing to attach to
    if (seen.insert(file).second) files.push_back(std::move(file));
  }
  return files;
}

bool isRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Target processTarget(int pid) {
  const std::string proc = "/proc/" + std::to_string(pid);
  struct stat st;
  if (pid <= 0 || ::stat(proc.c_str(), &st) != 0) {
    throw ToolError("no process with pid " + std::to_string(pid) + ": check the pid with ps");
  }
  Target target;
  target.pid = pid;
  // Through the process's root, so objects inside a container resolve.
  const std::string root = proc + "/root";
  for (const auto& file : mappedFiles(pid)) {
    std::string path = root;
    path += file;
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

Target resolveTarget(const Options& options) {
  return options.pid != 0 ? processTarget(options.pid) : fileTarget(options.path);
}

}  // namespace probemon::tool
