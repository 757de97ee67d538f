// Arbitrageur: every latency_steps it looks at every venue and trades toward the exogenous
// reference, then trades the perpetual against the spot of the same asset (model.md section 6).
//
//  (a) reference: if a venue's best ask is below reference x (1 - (threshold + taker fee)), it buys
//      IOC at that ask, at most max_order_qty and at most the volume resting there; symmetrically it
//      sells into a best bid above reference x (1 + threshold + fee).
//  (b) perp vs spot: if the perp best bid is above the spot best ask x (1 + threshold + both taker
//      fees) it sells the perp and buys the spot (same quantity; the second leg is sized to what the
//      first filled); and the reverse.
//
// Capital is finite: per asset |spot held - starting spot| <= max_position and |perp contracts| <=
// max_position, and it can only buy what its quote cash pays for. It holds a plain (non-margined)
// account, like the market makers; its perp short is a negative contract balance backed by the
// cash it received. A dislocation larger than its capacity persists, by design. Each arbitrageur
// acts on its own phase (drawn at construction) of the latency_steps cycle, so a population of
// several covers the cycle instead of all arriving on the same step.
#pragma once
#include <cstdint>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/wake.hpp"

namespace sl {

class Arbitrageur {
 public:
  // base_start: spot micro-units of every asset minted to the account at setup (inventory is
  // measured against it).
  Arbitrageur(const ArbitrageurConfig& cfg, AccountId account, Micros base_start, Rng rng);

  bool wants_to_act(std::int64_t step) const { return (step + phase_) % cfg_.latency_steps == 0; }
  std::int64_t next_wake(std::int64_t step) const { return next_multiple_after(step, cfg_.latency_steps, phase_); }
  void act(Market& m);

  AccountId account() const { return account_; }
  Lots filled_lots() const { return filled_lots_; }  // total lots traded over the run, all venues

 private:
  void toward_reference(Market& m, AssetMarket& am, VenueKind kind);
  void perp_vs_spot(Market& m, AssetMarket& am);
  void unwind(Market& m, AssetMarket& am, VenueKind kind);
  // Lots it may still buy / sell on this venue under its position limit (and, for spot sells, its
  // holding; for buys, its cash at `price` fees included).
  Lots buy_room(const Market& m, const AssetMarket& am, VenueKind kind, Tick price) const;
  Lots sell_room(const Market& m, const AssetMarket& am, VenueKind kind) const;
  Lots ioc(Venue& v, Side side, Tick price, Lots lots);

  ArbitrageurConfig cfg_;
  AccountId account_;
  Micros base_start_;
  Micros max_position_;  // asset micro-units
  double max_order_qty_;
  Rng rng_;
  std::int64_t phase_ = 0;
  Lots filled_lots_ = 0;
};

}  // namespace sl
