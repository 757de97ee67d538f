// Two assets whose reference prices are correlated (the collateral and the hedge can differ):
// the sample correlation of their log returns matches correlation_to_first in the calm regime and
// correlation_to_first_stress in the stress regime, within sampling error.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sim/market/reference_process.hpp"

using namespace sl;

namespace {
double corr(const std::vector<double>& a, const std::vector<double>& b) {
  const double n = static_cast<double>(a.size());
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) ma += a[i], mb += b[i];
  ma /= n, mb /= n;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  return sab / std::sqrt(saa * sbb);
}

// Returns (calm-step correlation, stress-step correlation).
std::pair<double, double> simulate(double rho_calm, double rho_stress, double p_to_stress, double p_to_calm) {
  ReferenceConfig r0, r1;
  r0.p_calm_to_stress_per_hour = r1.p_calm_to_stress_per_hour = p_to_stress;
  r0.p_stress_to_calm_per_hour = r1.p_stress_to_calm_per_hour = p_to_calm;
  r1.vol_calm_annual = 0.8;  // a different volatility does not change the correlation
  ReferenceProcess a(r0, 30000, 60.0, make_rng(1, 0, 99)), b(r1, 2000, 60.0, make_rng(1, 0, 98));
  ReferenceModel model({&a, &b}, {0.0, rho_calm}, {0.0, rho_stress}, make_rng(7, 0, kStreamReference));
  std::vector<double> ca, cb, sa, sb;
  double la = std::log(a.price()), lb = std::log(b.price());
  for (int i = 0; i < 200'000; ++i) {
    model.step();
    const double ra = std::log(a.price()) - la, rb = std::log(b.price()) - lb;
    la += ra, lb += rb;
    (model.stressed() ? sa : ca).push_back(ra);
    (model.stressed() ? sb : cb).push_back(rb);
  }
  return {corr(ca, cb), sa.size() > 1000 ? corr(sa, sb) : NAN};
}
}  // namespace

TEST_CASE("correlated references: calm and stress correlations as configured") {
  // Standard error of a sample correlation ~ (1 - rho^2) / sqrt(n): < 0.003 for n >= 50,000.
  const auto [calm, stress] = simulate(0.8, 0.2, 0.5, 1.0);  // a third of the time in stress
  CHECK(calm == doctest::Approx(0.8).epsilon(0.02));
  CHECK(stress == doctest::Approx(0.2).epsilon(0.1));
  const double neg = simulate(-0.5, -0.5, 0.0, 1.0).first;
  CHECK(neg == doctest::Approx(-0.5).epsilon(0.03));
}
