// Writing results: one JSON document or line at a time, flushed so a reader
// on a pipe sees each refresh as it happens. When the reader has gone (e.g.
// `probemon trace ... | head`), flushing throws OutputClosed: the view stops,
// detaches on the way out, and the tool exits 0 without a message.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace probemon::tool {

struct OutputClosed {};

void emitJson(const nlohmann::json& json);
// Flushes stdout after a text refresh.
void flushOutput();
// Wall-clock "HH:MM:SS" for refresh headers.
std::string clockTime();
// Seconds since the epoch, for JSON records.
double epochSeconds();

}  // namespace probemon::tool
