#include "sim/liquidation/policy.hpp"

#include <stdexcept>

namespace sl {

const std::vector<std::string>& implemented_policies() {
  static const std::vector<std::string> v{"market", "dutch", "batch", "socialized", "delta_neutral", "hierarchy"};
  return v;
}

std::unique_ptr<LiquidationPolicy> make_liquidation_policy(const LiquidationConfig& cfg) {
  if (cfg.policy == "market") return make_market_policy(cfg);
  if (cfg.policy == "dutch") return make_dutch_policy(cfg);
  if (cfg.policy == "batch") return make_batch_policy(cfg);
  if (cfg.policy == "socialized") return make_socialized_policy(cfg);
  if (cfg.policy == "delta_neutral") return make_delta_neutral_policy(cfg);
  if (cfg.policy == "hierarchy") return make_hierarchy_policy(cfg);
  throw std::invalid_argument("unknown liquidation policy '" + cfg.policy + "'");
}

}  // namespace sl
