// Placeholder until the `socialized` policy lands: unreachable from scenarios (the schema does not
// list it) and a clear error from RunOptions::policy.
#include <stdexcept>

#include "sim/liquidation.hpp"

namespace sl {

std::unique_ptr<LiquidationPolicy> make_socialized_policy(const LiquidationConfig&) {
  throw std::invalid_argument("liquidation policy 'socialized' is not implemented yet");
}

}  // namespace sl
