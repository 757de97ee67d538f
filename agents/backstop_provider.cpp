#include "agents/backstop_provider.hpp"
#include "agents/inventory_unwind.hpp"

#include <algorithm>
#include <cstdlib>

namespace sl {

BackstopProvider::BackstopProvider(double capacity_quote, AccountId account)
    : capacity_(std::max(0.0, capacity_quote)), remaining_(capacity_), account_(account) {}

void BackstopProvider::took(double value) {
  const double v = std::max(0.0, value);
  remaining_ = std::max(0.0, remaining_ - v);
  taken_ += v;
  holds_inventory_ = true;
}


// It took hedged portfolios whole: it unwinds them in pairs (agents/inventory_unwind.hpp), so its net
// delta never grows; what is not a hedged pair (hierarchy's contracts) goes as unwind_inventory_step.
void BackstopProvider::act(Market& m) { holds_inventory_ = paired_unwind_inventory_step(m, account_); }

}  // namespace sl
