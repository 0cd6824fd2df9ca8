// SPDX-License-Identifier: BSD-3-Clause
// libbpf's own messages: on stderr with --verbose only. Without it a failure
// is reported by the step that failed, as one line saying what to do, and
// libbpf's log is what --verbose adds to it.
#pragma once

namespace probemon::tool {

void setLibbpfVerbose(bool verbose);

}  // namespace probemon::tool
