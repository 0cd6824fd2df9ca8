// SPDX-License-Identifier: BSD-3-Clause
#include "DocBlocks.h"

#include <fstream>
#include <regex>
#include <stdexcept>

namespace probemon::test {

std::vector<std::pair<std::string, std::string>> markedCodeBlocks(const std::string& path,
                                                                  const std::string& marker) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  const std::regex marker_line("^<!-- " + marker + R"(: (\S+) -->$)");
  std::vector<std::pair<std::string, std::string>> blocks;
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (!std::regex_match(line, m, marker_line)) continue;
    const std::string name = m[1];
    std::string fence;
    if (!std::getline(in, fence) || fence.rfind("```", 0) != 0) {
      throw std::runtime_error(path + ": marker '" + name + "' is not followed by a code block");
    }
    std::string text;
    for (std::string body; std::getline(in, body) && body.rfind("```", 0) != 0;) {
      text += body + "\n";
    }
    blocks.emplace_back(name, text);
  }
  return blocks;
}

}  // namespace probemon::test
