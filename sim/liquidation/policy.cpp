#include "sim/liquidation/policy.hpp"

#include "sim/liquidation/fund.hpp"

#include <stdexcept>

namespace sl {

Micros LiquidationPolicy::apply_fund_floor(LiquidationContext& ctx) { return floor_fund_equity(ctx, credit_); }

const std::vector<std::string>& implemented_policies() {
  static const std::vector<std::string> v{"market",     "dutch",         "batch",
                                          "socialized", "delta_neutral", "hierarchy",
                                          "delta_neutral:atomic", "delta_neutral:staged", "delta_neutral:backstop"};
  return v;
}

LiquidationConfig resolve_policy(const LiquidationConfig& cfg, const std::string& name) {
  LiquidationConfig out = cfg;
  out.policy = name;
  static const std::string dn = "delta_neutral:";
  if (name.rfind(dn, 0) == 0) {
    out.policy = "delta_neutral";
    out.delta_neutral.mode = name.substr(dn.size());
  }
  return out;
}

namespace {
std::unique_ptr<LiquidationPolicy> make_by_name(const LiquidationConfig& cfg) {
  if (cfg.policy == "market") return make_market_policy(cfg);
  if (cfg.policy == "dutch") return make_dutch_policy(cfg);
  if (cfg.policy == "batch") return make_batch_policy(cfg);
  if (cfg.policy == "socialized") return make_socialized_policy(cfg);
  if (cfg.policy == "delta_neutral") return make_delta_neutral_policy(cfg);
  if (cfg.policy == "hierarchy") return make_hierarchy_policy(cfg);
  throw std::invalid_argument("unknown liquidation policy '" + cfg.policy + "'");
}
}  // namespace

Micros fund_borrow_limit_micros(const LiquidationConfig& cfg) { return to_fixed(cfg.fund_borrow_limit, 1e6); }

std::unique_ptr<LiquidationPolicy> make_liquidation_policy(const LiquidationConfig& cfg) {
  std::unique_ptr<LiquidationPolicy> p = make_by_name(cfg);
  p->fund_credit().limit = fund_borrow_limit_micros(cfg);
  return p;
}

}  // namespace sl
