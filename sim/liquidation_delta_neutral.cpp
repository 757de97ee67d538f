// Placeholder until the `delta_neutral` policy lands: unreachable from scenarios (the schema does not
// list it) and a clear error from RunOptions::policy.
#include <stdexcept>

#include "sim/liquidation.hpp"

namespace sl {

std::unique_ptr<LiquidationPolicy> make_delta_neutral_policy(const LiquidationConfig&) {
  throw std::invalid_argument("liquidation policy 'delta_neutral' is not implemented yet");
}

}  // namespace sl
