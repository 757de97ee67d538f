// Price curves of the `dutch` (Clipper-style) liquidation auction, as pure functions of the time
// elapsed since the auction (re)started (model.md section 5). The factor is price / start price:
//   linear                 max(0, 1 - elapsed / tau_s)
//   stairstep_exponential  cut ^ floor(elapsed / step_s)
//   exponential            cut ^ (elapsed / step_s)
// An auction is reset (redone at the current index) when elapsed > tail_s or factor < cusp.
#pragma once
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "scenarios/scenario_config.hpp"

namespace sl {

enum class DutchCurve : int { Linear, StairstepExponential, Exponential };

inline DutchCurve parse_dutch_curve(const std::string& name) {
  if (name == "linear") return DutchCurve::Linear;
  if (name == "stairstep_exponential") return DutchCurve::StairstepExponential;
  if (name == "exponential") return DutchCurve::Exponential;
  throw std::invalid_argument("unknown dutch auction curve '" + name + "'");
}

inline double dutch_price_factor(DutchCurve curve, const DutchConfig& c, double elapsed_s) {
  if (elapsed_s <= 0) return 1.0;
  switch (curve) {
    case DutchCurve::Linear:
      if (c.tau_s <= 0) return 0.0;
      return std::max(0.0, 1.0 - elapsed_s / c.tau_s);
    case DutchCurve::StairstepExponential:
      if (c.step_s <= 0) return 0.0;
      return std::pow(c.cut, std::floor(elapsed_s / c.step_s));
    case DutchCurve::Exponential:
      if (c.step_s <= 0) return 0.0;
      return std::pow(c.cut, elapsed_s / c.step_s);
  }
  return 1.0;
}

inline double dutch_price_factor(const DutchConfig& c, double elapsed_s) {
  return dutch_price_factor(parse_dutch_curve(c.curve), c, elapsed_s);
}

inline bool dutch_needs_reset(const DutchConfig& c, double elapsed_s, double factor) {
  return elapsed_s > c.tail_s || factor < c.cusp;
}

}  // namespace sl
