// SPDX-License-Identifier: BSD-3-Clause
// A file descriptor owned by one object and closed with it, so that none
// leaks when an error unwinds a view (a refresh that throws, a failed setup).
#pragma once

#include <unistd.h>

#include <utility>

namespace probemon::tool {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }

  // -1 if none.
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

}  // namespace probemon::tool
