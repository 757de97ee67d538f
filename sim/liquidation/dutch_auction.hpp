// The Dutch (Clipper-style) auction as a reusable stage: kicks, price curve, resets or expiry, the
// liquidator bots' reservation prices and their takes. Used by the `dutch` policy (resets, never
// expires; sim/liquidation/dutch.cpp documents the mechanism in full) and by the `hierarchy`
// policy's auction stage (no reset: an auction EXPIRES after timeout_steps or when the reset rule
// would fire, and its account passes on to the next stage).
//
// The owner keeps what happens to an account once it leaves the auction (deficit settlement,
// next stages): advance() reports, in kick order, every account whose lots are all done.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "sim/liquidation/bid_valuation.hpp"
#include "sim/liquidation/dutch_curve.hpp"
#include "sim/liquidation/common.hpp"

namespace sl {

struct DutchAuctionOptions {
  std::string path = "dutch";         // policy_path of the takes (the `dutch` policy appends ">resetN")
  bool reset = true;                  // true: redo at the current index when the reset rule fires; false: expire
  std::int64_t timeout_steps = -1;    // expire once steps since the kick >= this (-1: never)
  // Expire (never sell) at a price beyond the account's bankruptcy price in that asset (below it
  // for a long lot, above it for a short): the `hierarchy` stage, whose later stages take the
  // account at the bankruptcy price. false: Clipper's rule, any price down to the cusp (`dutch`).
  bool floor_at_bankruptcy = false;
};

class DutchAuctions {
 public:
  DutchAuctions(const LiquidationConfig& cfg, DutchAuctionOptions opt);

  enum class Kick { None, Started, NoLots };
  // Offers the kick of account `id` to the bots (choose_liquidator with the given protocol fallback
  // delay); the kicker is paid tip + chip x notional by the insurance fund. Started: the account is
  // in_liquidation with one auction per asset it holds at least a lot of. NoLots: there is no
  // tradable lot (the owner settles the account); nobody was asked, charged or paid. None: nobody
  // kicks, or Dog's hole / Hole leave no room (the account waits, flagged).
  Kick kick(LiquidationContext& ctx, std::uint32_t id, int protocol_fallback_steps);

  struct Outcome {
    std::uint32_t id = 0;
    bool expired = false;  // at least one of its auctions expired with lots left
  };
  // Advances every live auction one step (reset or expiry first, then the bots' takes) and removes
  // the finished ones. Returns, in kick order, the accounts whose auctions are all done; their
  // in_liquidation flag is already cleared.
  const std::vector<Outcome>& advance(LiquidationContext& ctx, LiquidationStepStats& stats);

  // Index in ctx.events of the account's last take, or -1.
  std::int64_t last_event(std::uint32_t id) const;

 private:
  struct Auction {
    std::uint32_t margin_id = 0;
    std::size_t asset = 0;
    bool sell = true;               // long lot: the auction sells the account's contracts
    Lots remaining = 0;             // lots still to auction
    std::int64_t start_step = 0;    // (re)start of the price curve
    double index0 = 0.0;            // index at the (re)start
    Micros tab = 0;                 // Dog `dirt` this auction adds: lot notional at the kick index, less what takes dug
    std::int64_t kick_step = 0;     // bots' latency (and the expiry timeout) is counted from here
    std::int64_t flag_step = 0;     // first step of the flag spell that led to the kick
    bool endogenous = false;
    int resets = 0;
    bool done = false;
    bool expired = false;
  };

  void pay_incentive(LiquidationContext& ctx, const Liquidator& liq, double amount);
  double lot_notional(const LiquidationContext& ctx, std::size_t asset, Lots lots) const;
  void redo(LiquidationContext& ctx, Auction& a);
  double price_at(const Auction& a, double factor) const;
  void step_auction(LiquidationContext& ctx, Auction& a, LiquidationStepStats& stats);
  std::string path(int resets) const;

  // Dog.bark's room: min(Hole - Dirt - pending, hole - dirt of the asset) over the configured
  // limits, micros (max: no limit); `pending` = tabs of the same kick not yet in Dirt.
  Micros hole_room(std::size_t asset, Micros pending) const;
  void dig(Auction& a, Micros amount);

  LiquidationConfig cfg_;
  DutchCurve curve_;
  DutchAuctionOptions opt_;
  std::vector<Auction> auctions_;
  std::vector<Auction> kicked_;  // scratch of kick()
  DepthClaims claims_;           // depth takers of this step priced their resale on
  BidSchedule schedule_;         // scratch of step_auction()
  std::vector<Micros> dirt_;     // per asset: tab of live auctions (Dog ilk.dirt)
  Micros dirt_total_ = 0;        // Dog Dirt
  std::vector<std::size_t> order_;
  std::vector<Outcome> outcomes_;
  std::unordered_map<std::uint32_t, std::size_t> last_event_;  // margin id -> index of its last take event
};

}  // namespace sl
