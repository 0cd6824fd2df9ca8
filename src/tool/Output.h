// Writing results: one JSON document or line at a time, flushed so a reader
// on a pipe sees each refresh as it happens.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace probemon::tool {

void emitJson(const nlohmann::json& json);
// Flushes stdout after a text refresh.
void flushOutput();
// Wall-clock "HH:MM:SS" for refresh headers.
std::string clockTime();
// Seconds since the epoch, for JSON records.
double epochSeconds();

}  // namespace probemon::tool
