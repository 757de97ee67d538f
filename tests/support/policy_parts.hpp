// The pieces every hand-built liquidation test world repeats: the one-asset ledger and market
// (USDT 0, BTC 1, BTC-PERP 2 which may go short), the system accounts in the kernel's order, and what a
// LiquidationContext (sim/liquidation/policy.hpp) needs besides the market and the margin engine.
// Nothing here is computed: the worlds (hand_world.hpp, the tests' own harnesses) state every balance.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "agents/liquidator_bot.hpp"
#include "sim/core/rng.hpp"
#include "sim/liquidation/policy.hpp"
#include "sim/perp/margin_engine.hpp"

namespace sl::test {

// The ledger and market of a one-asset hand world; the venues are added by add_hand_venues().
struct HandLedger {
  Ledger L{{"USDT", "BTC", "BTC-PERP"}, {false, false, true}};
  Market m{L};
  PerpConfig pc;
};

// Opens the system accounts in the kernel's order: the insurance fund (given `fund_micros` of asset
// 0), bad debt (may go negative: its balance is the cumulative bad debt plus the fund's loans),
// network fees, and the protocol's own liquidator, named `protocol_name`.
inline LiquidationAccounts open_system_accounts(Ledger& L, Micros fund_micros,
                                                const std::string& protocol_name = "protocol") {
  LiquidationAccounts sys;
  sys.insurance_fund = L.open_account("insurance_fund");
  L.mint(sys.insurance_fund, 0, fund_micros);
  sys.bad_debt = L.open_account("bad_debt", true);
  sys.network_fees = L.open_account("network_fees");
  sys.protocol = L.open_account(protocol_name);
  return sys;
}

// The bots, their kinds, the liquidation random stream (seed 1, stream `rng_stream`), the system
// accounts, the events a policy writes and each asset's perp makers (one asset, none by default).
struct PolicyParts {
  std::vector<LiquidatorBot> bots;
  std::vector<std::int32_t> kinds;
  Rng rng;
  LiquidationAccounts sys;
  std::vector<LiquidationEvent> events;
  std::vector<std::vector<AccountId>> makers{{}};

  explicit PolicyParts(std::uint64_t rng_stream) : rng(make_rng(1, 0, rng_stream)) {}
  LiquidationContext context(Market& m, MarginEngine& margin, std::int64_t step) {
    return LiquidationContext{m, margin, bots, kinds, rng, step, sys, events, makers, nullptr};
  }
};

}  // namespace sl::test
