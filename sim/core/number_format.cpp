// Number formatting for messages (see number_format.hpp).
#include "sim/core/number_format.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace sl {

std::string format_number(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  std::string plain;
  if (x == std::floor(x) && std::fabs(x) < 1e18) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", x);
    plain = buf;
    if (std::fabs(x) < 1e6) return plain;
  }
  // Shortest representation that round-trips.
  char buf[40];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  std::string s = buf;
  // 1e+06 -> 1e6, 1e-07 -> 1e-7
  const auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    bool neg = false;
    if (!exp.empty() && (exp[0] == '+' || exp[0] == '-')) {
      neg = exp[0] == '-';
      exp.erase(0, 1);
    }
    while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
    s = mant + "e" + (neg ? "-" : "") + exp;
  }
  // Large integers: scientific only when clearly shorter (1000000 -> 1e6, 1234567 stays).
  if (!plain.empty() && plain.size() <= s.size() + 2) return plain;
  return s;
}

}  // namespace sl
