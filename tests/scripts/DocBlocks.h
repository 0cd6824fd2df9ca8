// SPDX-License-Identifier: BSD-3-Clause
// Reads the commands that docs/*.md mark for testing, so the documentation
// and the tests run the same text and cannot drift apart.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace probemon::test {

// In the markdown file `path`, each "<!-- MARKER: NAME -->" line followed by a
// fenced code block: NAME and the block's text, in document order. Throws
// std::runtime_error if the file cannot be read or a marker has no block.
std::vector<std::pair<std::string, std::string>> markedCodeBlocks(const std::string& path,
                                                                  const std::string& marker);

}  // namespace probemon::test
