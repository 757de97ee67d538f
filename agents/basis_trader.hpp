// Basis trader (cash-and-carry): long spot in a wallet account, short the same quantity of perp in
// a cross-margin account (model.md section 6; the failure story in the seeds: the margin call on
// the short leg arrives before the spot collateral can be moved to meet it).
//
// Basis traders trade asset 0 only. Each draws its short-leg notional (lognormal with mean
// notional_mean and log-sigma notional_dispersion, mean-preserving) at construction.
//
// Accounts: a wallet (plain, cannot go negative) funded with notional x 1.01 x (1 + spot taker fee)
// + quote_cash_extra, and a margin account (may go negative; registered with the margin engine as
// cross) funded with notional / leverage: quote cash, or with margin_asset_index k >= 0 spot of
// asset k worth that much at its initial price (collateral in another asset than the hedge; its
// value then moves with asset k's index and haircut, not with the hedged asset).
//
// Entry: at a decision step (every decision_every_steps) when not yet in position and either
// entry_basis_annual < 0 or the annualized basis estimate exceeds entry_basis_annual, where the
// estimate is max(perp_mid / spot_mid - 1, last funding rate) x (365 x 86400 / funding interval_s)
// (the premium taken as a per-interval funding rate). It then builds the target quantity
// (notional / spot mid) in slices, one per decision step, until done (the condition is not
// re-checked mid-way): each slice buys spot IOC from the wallet with a limit kEntrySlippageBps
// above the spot mid, then shorts exactly what filled on the perp IOC with a limit
// kEntrySlippageBps below the perp mid; spot that the perp leg could not hedge is sold back. So
// the position is delta-neutral slice by slice, and a thin book costs time rather than a sweep.
//
// Collateral in transit: spot_collateral_share of every slice bought, and every top-up, moves
// wallet -> Market::transit_account at once and transit -> margin account transfer_delay_steps
// later. While in transit it counts in nobody's equity. Pending transfers are kept in a small
// fixed-capacity queue (when full, the new amount joins the last entry and takes its later arrival).
//
// Kinds of hedged account (issue #13), mixable in one population. With unified_share and
// cross_asset_share both 0 every trader is as described above (its kind reads `cross_asset` when
// margin_asset_index >= 1, else `wallet`, and spot_collateral_share is posted through the transit
// delay). Otherwise each trader draws, after its notional, u ~ U[0,1): unified if u < unified_share,
// cross_asset if u < unified_share + cross_asset_share, else wallet:
//  - unified (unified / portfolio margin): a share s of the spot leg is held inside the margin
//    account itself, bought there with the account's own cash and a margin loan (its quote balance
//    may go negative), and counts at index x (1 - haircut) at once; the wallet buys and holds the
//    other 1 - s. The trader's own money in the account is the entry margin notional / leverage, so
//    at the entry price equity = notional x (1/leverage - s x haircut): the account fails when the
//    haircut rises (collateral_depeg, the volatility-linked haircut), when the mark runs above the
//    index (the premium is a loss on the whole short, the spot is valued at the index), and on the
//    1 - s part of the short the spot in the wallet cannot back until a top-up arrives.
//  - wallet: entry margin in quote, all the spot in the wallet; top-ups take transfer_delay_steps.
//  - cross_asset: entry margin in spot of margin_asset_index (valued with that asset's index and
//    haircut); all the hedge spot in the wallet.
// Then, when leverage_max > 0, leverage ~ log-uniform[leverage, leverage_max]; then, for a unified
// trader when spot_collateral_share_max >= 0, s ~ U[spot_collateral_share, spot_collateral_share_max]
// (else s = spot_collateral_share). Draws are taken only when their option is on, so populations
// without them draw exactly what they drew before.
//
// Every decision step with a position: if the margin account is closed (bankrupt or closed out) the
// trader stops for good; its remaining spot stays in the wallet, and spot still in transit is
// delivered back to the wallet when it arrives. Otherwise, if top_up and equity / maintenance <
// topup_ratio and nothing is in transit, it sends topup_share of the wallet's spot (delayed as
// above). It never unwinds voluntarily.
#pragma once
#include <array>
#include <algorithm>
#include <cstdint>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/perp/margin_engine.hpp"
#include "sim/market/market.hpp"
#include "sim/core/rng.hpp"
#include "sim/core/wake.hpp"

namespace sl {

enum class HedgeKind : std::uint8_t { Wallet, Unified, CrossAsset };
const char* hedge_kind_name(HedgeKind k);

class BasisTrader {
 public:
  static constexpr double kEntrySlippageBps = 25.0;   // limit price distance from the mid for entry slices
  static constexpr int kMaxEntrySlices = 200;         // gives up building the position after this many slices
  static constexpr std::size_t kMaxPending = 16;      // transfers in transit per trader

  // Opens and funds its accounts in m.ledger and registers the margin account with `margin`.
  BasisTrader(const BasisTraderConfig& cfg, Market& m, MarginEngine& margin, std::int32_t agent_id,
              double funding_interval_s, Rng rng);

  bool wants_to_act(std::int64_t step) const {
    if (n_pending_ > 0 && step >= pending_[0].arrive_step) return true;
    return !done_ && step % cfg_.decision_every_steps == 0;
  }
  // The earlier of the first transfer's arrival and the next decision step (none once done).
  std::int64_t next_wake(std::int64_t step) const {
    std::int64_t w = done_ ? kNeverWakes : next_multiple_after(step, cfg_.decision_every_steps);
    if (n_pending_ > 0) w = std::min(w, std::max(step + 1, pending_[0].arrive_step));
    return w;
  }
  void act(Market& m);

  std::int32_t agent_id() const { return agent_id_; }
  std::size_t asset() const { return kAsset; }
  AccountId wallet() const { return wallet_; }
  AccountId margin_account() const { return account_; }
  std::uint32_t margin_id() const { return margin_id_; }
  double target_notional() const { return notional_; }
  bool entered() const { return hedged_lots_ > 0; }
  bool stopped() const { return done_; }
  Lots hedged_lots() const { return hedged_lots_; }
  // Spot of asset 0 this trader owns in its wallet, its margin account and in transit (micro-units).
  Micros spot_owned(const Market& m) const;
  Micros in_transit() const;
  std::int64_t topups() const { return topups_; }
  HedgeKind kind() const { return kind_; }
  double leverage() const { return leverage_; }
  double unified_share() const { return unified_share_; }  // s: spot leg held in the margin account (unified kind)

 private:
  static constexpr std::size_t kAsset = 0;
  struct Pending {
    std::int64_t arrive_step = 0;
    Micros amount = 0;  // spot micro-units
  };

  bool entry_signal(const Market& m) const;
  void entry_slice(Market& m);
  bool send_collateral(Market& m, Micros amount);  // false if nothing was sent
  void deliver(Market& m);
  void decide(Market& m);

  BasisTraderConfig cfg_;
  std::int32_t agent_id_;
  double annualize_;  // funding intervals per year
  Rng rng_;
  double notional_ = 0.0;  // quote units
  AccountId wallet_ = 0, account_ = 0;
  std::uint32_t margin_id_ = 0;
  bool entering_ = false;
  int slices_ = 0;
  Lots target_lots_ = 0;
  Lots hedged_lots_ = 0;
  bool done_ = false;
  std::array<Pending, kMaxPending> pending_{};
  std::size_t n_pending_ = 0;
  std::int64_t topups_ = 0;
  HedgeKind kind_ = HedgeKind::Wallet;
  double leverage_ = 1.0;
  double unified_share_ = 0.0;
  int margin_asset_ = -1;  // asset index of the entry margin's spot, -1: quote
};

}  // namespace sl
