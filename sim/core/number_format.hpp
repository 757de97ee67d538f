// Number formatting for messages: the shortest text that reads back as the same double
// (1e6 -> "1e6", 0.1 -> "0.1", 30000 -> "30000"). Used by the scenario loader and by the engine's
// own input readers (replay CSVs), so both name values the same way in their errors.
#pragma once
#include <string>

namespace sl {
std::string format_number(double x);
}  // namespace sl
