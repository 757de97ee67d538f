// Test helper: the real Binance BTCUSDT perpetual funding series in data/ (black_thursday_2020's
// comparison), read once for every test that holds the simulation against it.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sl::test {

struct RealSettlement {
  double hours;  // since the replay's start, rounded to the full hour
  double rate;   // fraction per 8 h
};

// The settlements after start_ms (the replay's first kline open, ms), in file order.
inline std::vector<RealSettlement> real_funding_settlements(std::int64_t start_ms) {
  std::ifstream in(std::string(STRESSLAB_SOURCE_DIR) + "/data/btcusdt_perp_funding_2020-03-05_2020-03-20.csv");
  REQUIRE(in.good());
  std::string line;
  std::getline(in, line);  // funding_time_ms,funding_interval_hours,funding_rate
  std::vector<RealSettlement> out;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::int64_t t_ms = 0;
    double interval_h = 0, rate = 0;
    char comma;
    ss >> t_ms >> comma >> interval_h >> comma >> rate;
    // Binance stamps some settlements a few ms late: the settlement is the full hour.
    const double h = std::round(static_cast<double>(t_ms - start_ms) / 3.6e6);
    if (h > 0) out.push_back({h, rate});
  }
  return out;
}

}  // namespace sl::test
