// SPDX-License-Identifier: BSD-3-Clause
#include "LibbpfLog.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

namespace probemon::tool {
namespace {

bool g_verbose = false;

int printLibbpf(enum libbpf_print_level level, const char* format, va_list args) {
  (void)level;
  if (!g_verbose) return 0;  // failures become our own one-line errors
  return std::vfprintf(stderr, format, args);
}

}  // namespace

void setLibbpfVerbose(bool verbose) {
  g_verbose = verbose;
  libbpf_set_print(printLibbpf);
}

}  // namespace probemon::tool
