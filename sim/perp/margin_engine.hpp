// Margin engine: values every margined account at the mark price each step (model.md section 4)
// and flags those whose equity is below their maintenance requirement.
//
// A margined account is one ledger account holding quote cash, spot collateral and perpetual
// contracts of any assets. Cross margin: everything in it backs every position. Isolated margin:
// the same valuation applied to an account that holds a single position and only the margin posted
// for it (an agent with several isolated positions owns several accounts). With the venue's
// accounting (a perp trade exchanges contracts for cash at the trade price), equity is
//     quote + sum_a spot_a x index_a x (1 - haircut_a) + sum_a contracts_a x mark_a
// which equals collateral + unrealised PnL at mark. Requirements use the tier rate of each
// position's notional (the whole position at its bracket's rate; a simplification of exchanges'
// cumulative brackets, documented in sim/perp/README.md, "Simplifications").
#pragma once
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include "agents/agent.hpp"
#include "scenarios/scenario_config.hpp"
#include "sim/core/huge_pages.hpp"
#include "sim/core/rng.hpp"
#include "sim/market/market.hpp"
#include "sim/perp/liquidation_price_index.hpp"
#include "sim/perp/watch_index.hpp"

namespace sl {

enum class MarginMode : std::uint8_t { Cross, Isolated };

// Which prices value an account: the venue's (index for collateral, mark for contracts), or the
// exogenous reference for both (used for the endogenous flag: would it be healthy without the
// market's own price impact?).
enum class PriceBasis : std::uint8_t { Mark, Reference };

// Fields ordered by size (56 bytes, no padding holes: a million passive accounts hold one each).
struct MarginAccount {
  AccountId account = 0;
  std::int32_t owner_agent = -1;       // global agent id
  // Updated by MarginEngine::mark_all (quote units):
  double equity = 0.0;
  double maintenance = 0.0;
  double gross_notional = 0.0;
  std::int64_t flagged_since = -1;     // first step of the current liquidatable spell, -1 if healthy
  // Equity at the first mark with an open position: the base of PnL% for ADL ranking (later
  // deposits count as PnL, a documented simplification).
  double opening_equity = -1.0;
  AgentKind owner_kind = AgentKind::MarketMaker;
  MarginMode mode = MarginMode::Cross;
  bool liquidatable = false;
  bool endogenous_at_flag = false;     // at that first step, healthy at the exogenous reference prices?
  bool in_liquidation = false;         // a policy is working on it (auctions, staged unwinds)
  bool closed = false;                 // bankrupt or fully closed out: ignored from then on
  // Its owner reads equity / maintenance every step (a top-up rule): valued every step, never left
  // to the liquidation-price index.
  bool valued_every_step = false;
};
static_assert(sizeof(MarginAccount) == 56, "MarginAccount: keep the fields packed");

// How mark_all finds the accounts to value: "index" values only the accounts whose balances changed
// or whose liquidation price band the mark or index left (sim/perp/liquidation_price_index.hpp);
// "full" values every open account every step. Both flag exactly the same accounts.
enum class MarginScan : std::uint8_t { Index, Full };

// What a watched position (MarginEngine::watch_positions) is, read again when it becomes a margin
// account: its margin mode and the legs it was booked with against the counterparty.
struct WatchedPosition {
  MarginMode mode = MarginMode::Cross;
  std::size_t asset = 0;
  bool is_long = true;
  Micros contracts = 0;  // > 0
  Micros cash = 0;       // the cash leg at the entry price
};

class MarginEngine : public FillObserver {
 public:
  MarginEngine(const PerpConfig& cfg, Market& market);

  std::uint32_t add_account(AccountId account, std::int32_t owner_agent, AgentKind kind, MarginMode mode,
                            bool valued_every_step = false);

  // WATCHED POSITIONS (issue #15: a million passive positions without a million margin accounts).
  // A block of ledger accounts [first, first + n), each one booked position that never acts
  // (agents.passive_positions), can be watched instead of added: the engine keeps, per position,
  // only its price bands (computed from its ledger balances by the same rule as every indexed
  // account's, at the prices of the moment) in a second liquidation-price index, and makes it a
  // margin account (add_account, its entry price, and the opening equity it had at the first mark)
  // only when something needs one:
  //   - a mark or index price leaves one of its bands (mark_all; then valued that step),
  //   - a haircut changes and it holds spot collateral (its bands are computed again; a position
  //     that cannot keep one is added),
  //   - something is about to move its balances or read it as an account: funding, an ADL walk, a
  //     loss haircut of winners, a full scan (materialise_all_watched; the callers do it first).
  // Until then its balances are those it was booked with (a watched position's balance that changes
  // without that is a bug: mark_all throws std::logic_error). Results are those of adding every
  // position at set-up: every order that could depend on when an account was added (ties of the
  // flagged list, the end-of-run sums, the proactive de-risker's pass) follows ledger account ids,
  // which watching does not change.
  // `describe(k)` gives position k's description (k = account - first). A watched position holds
  // quote, and spot and contracts of asset `asset` only.
  void begin_watch(AccountId first, std::size_t n, std::size_t asset, std::function<WatchedPosition(std::size_t)> describe);
  // Watches the just-booked account first + k at the current prices; if it cannot have bands (it
  // is liquidatable now, or at a tier edge) it is added at once, as it would be without watching.
  void watch(std::size_t k, const WatchedPosition& p);
  // watch(k0 + j, p[j]) for j < count, in that order, in one loop (no call per position); p null:
  // a position that cannot be banded is described by begin_watch's `describe` (drawn again).
  // `booked`: the positions' balances as booked (Ledger::BulkOpening::end_block's columns of a
  // deferred range's block, account first + k0 + j at j), read instead of the ledger's, whose rows
  // then stay unwritten (Ledger: deferred rows); nullptr: read from the ledger.
  void watch_block(std::size_t k0, std::size_t count, const WatchedPosition* p, const Ledger::BulkOpening::BlockColumns* booked = nullptr);
  // Adds every watched position that is not a margin account yet (ascending account id).
  void materialise_all_watched();
  // A watched position that is not (yet) a margin account.
  bool is_watched(AccountId account) const {
    return account >= watch_first_ && account - watch_first_ < watch_n_ && margin_id_of(account) == kNoMargin;
  }
  std::size_t watched_count() const { return watch_n_ - watch_materialised_; }
  std::size_t watched_total() const { return watch_n_; }
  // Rebuilds of every watched position's bands (a haircut change, a far edge reached).
  std::size_t watch_rebuilds() const { return watch_rebuilds_; }

  // Step 4: values the open accounts, sets liquidatable/flagged_since, and lists the flagged ones
  // worst first: ascending margin ratio equity / maintenance (an account without positions and
  // with negative equity, maintenance 0, first of all), exact ties in a seeded random order. Every
  // policy takes them in this order, so no account is served first because of its id (a liquidation
  // engine works the most underwater account first; within a tie, none has a claim to go first).
  //
  // With MarginScan::Index only the accounts that may have changed state are valued: those whose
  // balances changed since the last mark (the ledger's change list), whose price band was left,
  // those liquidatable, in liquidation or valued_every_step, and the holders of an asset's spot when
  // its haircut changed. The others keep their last valuation (equity, maintenance, ...), which still gives
  // the same answer to "liquidatable?" and "below k x maintenance?" (k: the proactive trigger).
  void mark_all(std::int64_t step);
  MarginScan scan() const { return scan_; }
  // Room for this many margined accounts, opened among this many ledger accounts in all.
  void reserve(std::size_t n_accounts, std::size_t n_ledger_accounts);
  void set_scan(MarginScan s) { scan_ = s; }
  // Margin ids, ascending, of every account whose state the last mark_all does not vouch for now:
  // with the index built and the mark, index and haircuts unchanged since that mark, the accounts
  // it values every step (liquidatable, in liquidation, valued_every_step, without bands) and those
  // whose balances changed since; otherwise every account. Any other open account has a band the
  // prices have not left: not liquidatable, equity >= watch ratio x maintenance >= 0 (so an
  // end-of-run sum over liquidatable or negative-equity accounts reads only these; closed ones
  // included, the caller skips them).
  // Ordered by ledger account id (the order of accounts added at set-up, whether or not positions
  // were watched). Not vouched for: every watched position is added first.
  void accounts_not_vouched_for(std::vector<std::uint32_t>& out);
  // Accounts valued by the last mark_all (for tests and the bench's diagnostics).
  std::size_t valued_last_step() const { return valued_last_; }
  // The stream that orders ties (kStreamFlagOrder of the run's seed; a fixed stream until set).
  void set_tie_rng(Rng rng) { tie_rng_ = rng; }
  const std::vector<std::uint32_t>& flagged() const { return flagged_; }

  std::vector<MarginAccount>& accounts() { return accounts_; }
  const std::vector<MarginAccount>& accounts() const { return accounts_; }
  MarginAccount& account(std::uint32_t id) { return accounts_[id]; }
  // The margin id of a ledger account, kNoMargin if it is not a margined account.
  static constexpr std::uint32_t kNoMargin = 0xFFFFFFFFu;
  std::uint32_t margin_id_of(AccountId account) const {
    return account < margin_of_.size() ? margin_of_[account] : kNoMargin;
  }

  // Valuations (quote units).
  double equity(const MarginAccount& a, PriceBasis basis) const;
  double maintenance(const MarginAccount& a, PriceBasis basis) const { return requirement(a, basis, true); }
  double initial(const MarginAccount& a, PriceBasis basis) const { return requirement(a, basis, false); }
  // Tier rates (fractions) for a position of this notional (quote units).
  double mmr(double notional) const;
  double imr(double notional) const;
  // Contracts of asset i held by the account, in asset units (negative = short).
  double position(const MarginAccount& a, std::size_t asset) const;
  // Mark price of asset i at which the account's equity would be zero, other prices unchanged;
  // 0 if no position in asset i or if no positive price makes equity zero.
  double bankruptcy_price(const MarginAccount& a, std::size_t asset) const;
  // Entry price of the account's position in asset i (quote per unit; 0 if flat or never recorded),
  // kept as Binance shows it: the volume-weighted price of the fills that opened or added to the
  // position; a fill that reduces it leaves it unchanged; one that flips it restarts it at the
  // fill's price. The ADL queue ranks on it (model.md section 9: PnL against the entry price).
  double entry_price(const MarginAccount& a, std::size_t asset) const;
  // Records a change of `delta` contracts (signed, already applied to the ledger) in `account`'s
  // position in asset i at `price`; ignored for accounts that are not margined.
  void record_fill(AccountId account, std::size_t asset, Micros delta, double price);
  // `qty` contracts of asset i moved from `from` to `to` at `price` (an off-book transfer).
  void record_transfer(AccountId from, AccountId to, std::size_t asset, Micros qty, double price) {
    record_fill(from, asset, -qty, price);
    record_fill(to, asset, qty, price);
  }
  // Venue fill observer (perp venues): the buyer gains `base`, the seller loses it, at `price`.
  void on_perp_fill(AssetId perp_asset, AccountId buyer, AccountId seller, Micros base, double price) override;
  // Would this account be healthy if valued at the exogenous reference prices?
  bool healthy_at_reference(const MarginAccount& a) const { return equity(a, PriceBasis::Reference) >= maintenance(a, PriceBasis::Reference); }

 private:
  double price(std::size_t asset, PriceBasis basis, bool contract) const;
  double requirement(const MarginAccount& a, PriceBasis basis, bool maintenance_rate) const;
  std::vector<MarginTierConfig> tiers_;
  Market& market_;
  std::vector<MarginAccount> accounts_;
  std::vector<std::uint32_t> flagged_;
  std::vector<std::pair<double, std::uint32_t>> order_;  // (margin ratio, margin id) scratch of mark_all
  Rng tie_rng_ = make_rng(0, 0, kStreamFlagOrder);
  void order_flagged();
  // Values one account and updates its flag state; true if it is liquidatable.
  bool mark_one(std::uint32_t id, std::int64_t step);
  void mark_indexed(std::int64_t step);
  // Gives a just-valued account its price bands, or keeps it on the every-step list.
  void index_or_keep(std::uint32_t id);
  // Price bands of ledger account `acc` valued at (equity, maintenance) at marks_ / indices_ into
  // mark_bands_ / index_bands_; false if none can be given.
  bool bands_of(AccountId acc, double equity, double maintenance);
  struct Valuation {
    double equity, maintenance, gross;
  };
  // Equity, maintenance and gross notional of ledger account `acc` at the current mark and index.
  Valuation value_of(AccountId acc) const;
  // Watched position k becomes a margin account; returns its margin id.
  std::uint32_t materialise(std::size_t k);
  std::uint32_t add_watched(std::size_t k, const WatchedPosition& p);
  // Bands of watched positions ks[0, n) (n <= kWatchChunk) at the current prices (marks_ / indices_
  // filled), stored in the watch indexes; the numbers of those that must be margin accounts are
  // written to `unbanded` in the order of ks, and their count returned. Those holding spot are
  // appended to *spot_holders unless it is null. Their balances from `booked` (ks[j]'s at
  // booked_offset + j) if given, else from the ledger.
  static constexpr std::size_t kWatchChunk = 256;  // = kWatchBandBlock (sim/perp/watch_bands.hpp)
  std::size_t band_watched(const std::uint32_t* ks, std::size_t n, std::uint32_t* unbanded, std::vector<std::uint32_t>* spot_holders,
                           const Ledger::BulkOpening::BlockColumns* booked = nullptr, std::size_t booked_offset = 0);
  // Bands the positions of ks[0, n) (any n), materialising those that cannot be banded.
  void rewatch(const std::uint32_t* ks, std::size_t n);
  void rewatch_all();
  void rewatch_spot_holders();
  bool usable_for_watching() const { return scan_ == MarginScan::Index && index_usable_; }

  std::vector<double> entry_price_;  // margin id x asset: entry price (quote per unit), 0 if none
  MarginScan scan_ = MarginScan::Index;
  bool index_usable_ = true;             // tiers' mmr never decreases with notional
  double watch_ratio_ = 1.0;             // k: the highest multiple of maintenance anyone reads
  std::vector<MarginTierRate> tier_rates_;
  LiquidationPriceIndex index_;
  // Ledger account -> margin id (kNoMargin if none), each stored as its complement: kNoMargin is
  // then zero, which a ZeroGrowVector's new elements are without being written, so a million
  // watched positions' ids (none, until one becomes a margin account) cost no memory.
  class MarginIds {
   public:
    std::uint32_t operator[](std::size_t account) const { return ~ids_[account]; }
    void set(std::size_t account, std::uint32_t id) { ids_[account] = ~id; }
    std::size_t size() const { return ids_.size(); }
    void grow_to(std::size_t n) { ids_.grow_to(n); }  // the new accounts: kNoMargin
    void reserve(std::size_t n) { ids_.reserve(n); }

   private:
    ZeroGrowVector<std::uint32_t, /*kHugePages=*/false> ids_;  // written here and there: 4 KB pages
  };
  MarginIds margin_of_;
  std::vector<std::uint32_t> every_step_;    // valued every step (not indexed), rebuilt by mark_all
  std::vector<std::uint32_t> next_every_step_;
  std::vector<std::uint32_t> candidates_;    // this step's accounts to value (may repeat)
  std::vector<std::uint8_t> queued_;         // per margin id: already in this step's candidates
  std::vector<double> marks_, indices_, haircuts_;
  std::vector<std::uint8_t> haircut_moved_;  // per asset, this mark: its haircut changed since the last
  std::vector<AssetExposure> exposure_;      // scratch of index_or_keep
  std::vector<PriceBand> mark_bands_, index_bands_;
  std::size_t valued_last_ = 0;
  bool prices_ok_ = true;                    // every mark and index price positive and finite
  static constexpr std::size_t kNoAssets = static_cast<std::size_t>(-1);
  std::size_t index_assets_ = kNoAssets;     // assets the index was built for; kNoAssets: rebuild
  // Watched positions: ledger accounts [watch_first_, watch_first_ + watch_n_), bands in watch_index_
  // (ids k = account - watch_first_).
  AccountId watch_first_ = 0;
  std::size_t watch_n_ = 0, watch_materialised_ = 0, watch_rebuilds_ = 0;
  std::function<WatchedPosition(std::size_t)> describe_;
  std::size_t watch_asset_ = 0;
  double watch_haircut_ = 0;  // the asset's haircut the spot holders' bands were computed at
  // Far edges: a watched position's band edge beyond watch_far_ x the price it was computed at (or
  // below that price / watch_far_) is not stored; the nearest such edge per (price, side) is kept
  // here, and a price that reaches it makes every band be computed again at that price.
  double watch_far_ = 2.0, inv_watch_far_ = 0.5;  // perp.watch_far_factor
  double far_mark_lo_ = 0, far_mark_hi_ = 0, far_index_lo_ = 0, far_index_hi_ = 0;
  void reset_far_edges() {
    far_mark_lo_ = far_index_lo_ = -std::numeric_limits<double>::infinity();
    far_mark_hi_ = far_index_hi_ = std::numeric_limits<double>::infinity();
  }
  WatchIndex watch_index_;       // positions without spot collateral: a haircut does not move their bands
  WatchIndex watch_spot_index_;  // positions holding spot: rebuilt when a haircut changes
  std::vector<std::uint32_t> watch_spot_;  // their numbers k (ascending)
  std::vector<std::uint32_t> watch_crossed_;
  // The prices of the first mark (the opening equity of a position added later is its equity then).
  bool first_marked_ = false;
  bool watch_prices_ok_ = true;
  std::vector<double> marks0_, indices0_, haircuts0_;
};

// Books a position that predates the run (`initial` entry modes, accounts.file) against the market's
// counterparty account: `trader` gets `contracts` (long) or gives them (short) for `cash` (quote
// micro-units) at entry price cash / contracts, recorded as its entry; the counterparty's cash leg
// is kept per asset for its population (sim/run/counterparties.hpp).
void book_against_counterparty(Market& m, MarginEngine& margin, AccountId trader, std::size_t asset, bool trader_long,
                               Micros contracts, Micros cash);
// What a booking against the counterparty records besides its two ledger legs: the counterparty's
// cash leg per asset (+cash when the trader is long) and the trader's entry price cash / contracts.
// book_against_counterparty calls it after its transfers; a bulk opening of positions
// (sim/run/own_positions.cpp) after its legs, so both record the same.
void record_counterparty_booking(Market& m, MarginEngine& margin, AccountId trader, std::size_t asset, bool trader_long,
                                 Micros contracts, Micros cash);
// The counterparty's cash leg per asset alone: `signed_cash` (+cash for each trader long) added
// (a population of watched positions sums its legs and adds them once).
void add_counterparty_cash(Market& m, std::size_t asset, Micros signed_cash);

}  // namespace sl
