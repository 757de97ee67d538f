// Placeholder until the `dutch` policy lands: unreachable from scenarios (the schema does not
// list it) and a clear error from RunOptions::policy.
#include <stdexcept>

#include "sim/liquidation.hpp"

namespace sl {

std::unique_ptr<LiquidationPolicy> make_dutch_policy(const LiquidationConfig&) {
  throw std::invalid_argument("liquidation policy 'dutch' is not implemented yet");
}

}  // namespace sl
