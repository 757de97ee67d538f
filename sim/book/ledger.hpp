// Double-entry ledger: int64 micro-unit balances per (account, asset). Every movement of value is a
// transfer between two accounts, so the sum of every asset over all accounts is constant (zero:
// supply enters through each asset's issuer account, which is the only place it can come from).
// Conservation is therefore an exact integer invariant, checked at the end of every run.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sim/core/fixed_point.hpp"
#include "sim/core/huge_pages.hpp"

namespace sl {

using AccountId = std::uint32_t;
using AssetId = std::uint16_t;

struct LedgerError : std::logic_error {
  using std::logic_error::logic_error;
};

// Raised when a transfer would overdraw an account that may not go negative. Venues test with
// can_pay() first; reaching this is a bug in the caller, not a market event.
struct InsufficientFunds : LedgerError {
  using LedgerError::LedgerError;
};

struct ConservationError : LedgerError {
  using LedgerError::LedgerError;
};

// The exact sum of each column of a row-major n_rows x n_cols table of int64 (fewer than 2^32
// rows): what Ledger::check_conservation sums, the balances being one row per account.
std::vector<__int128> column_sums(const Micros* rows, std::size_t n_rows, std::size_t n_cols);

class Ledger {
 public:
  // `negative_allowed[a]` marks assets that are contracts (perpetual positions): any account may
  // hold them short. Other assets may go negative only in accounts opened with may_go_negative.
  Ledger(std::vector<std::string> asset_names, std::vector<bool> negative_allowed);

  AccountId open_account(const std::string& name, bool may_go_negative = false);
  // The account named prefix + number + suffix (the same as open_account of that name, without
  // building the string: for populations of a million accounts). number < 4294967295.
  AccountId open_numbered_account(std::string_view prefix, std::uint32_t number, std::string_view suffix,
                                  bool may_go_negative = false);
  // The same, with the (prefix, suffix) pair looked up once for a whole population: name_stem gives
  // its id, open_stem_account opens the account named prefix + number + suffix.
  std::uint32_t name_stem(std::string_view prefix, std::string_view suffix) { return stem_of(prefix, suffix); }
  AccountId open_stem_account(std::uint32_t stem, std::uint32_t number, bool may_go_negative = false);
  // `count` accounts at once, numbered first_number, first_number + 1, ...: the same accounts as
  // that many open_stem_account calls (ids consecutive from the returned one), each array grown once.
  AccountId open_stem_range(std::uint32_t stem, std::uint32_t first_number, std::size_t count, bool may_go_negative = false);
  // Room for n accounts in total (a large population opened in one go grows nothing twice).
  void reserve_accounts(std::size_t n);
  AccountId issuer(AssetId asset) const { return issuer_[asset]; }

  // Moves `amount` (>= 0) of `asset` from `from` to `to`. Throws InsufficientFunds if `from` would
  // go negative and may not, std::overflow_error on int64 overflow; nothing changes on a throw.
  void transfer(AccountId from, AccountId to, AssetId asset, Micros amount);
  // Creates supply: a transfer from the asset's issuer account (setup only).
  void mint(AccountId to, AssetId asset, Micros amount) { transfer(issuer_[asset], to, asset, amount); }

  bool can_pay(AccountId from, AssetId asset, Micros amount) const {
    return may_go_negative(from, asset) || balance(from, asset) >= amount;
  }
  Micros balance(AccountId account, AssetId asset) const {
    ensure_row(account);
    return balances_[index(account, asset)];
  }
  bool may_go_negative(AccountId account, AssetId asset) const {
    return account_negative_[account] || asset_negative_[asset] ||
           (asset == negative_in_asset_ && account < negative_in_.size() && negative_in_[account]);
  }
  // Lets an already open account go negative in this one asset only (a margined agent's quote: a
  // perp trade pays or receives the notional, and its equity, not its cash, bounds the debt; its
  // spot stays non-negative). Setup only; one asset for all such accounts (the quote): LedgerError
  // if another is asked for.
  void allow_negative_in(AccountId account, AssetId asset) {
    if (negative_in_asset_ != kNoAsset && negative_in_asset_ != asset)
      throw LedgerError("allow_negative_in: only one asset may be allowed negative per ledger");
    negative_in_asset_ = asset;
    if (negative_in_.size() <= account) negative_in_.resize(account + 1, false);
    negative_in_[account] = true;
  }

  std::size_t n_accounts() const { return names_.size(); }
  std::size_t n_assets() const { return asset_names_.size(); }
  std::string account_name(AccountId a) const;
  const std::string& asset_name(AssetId a) const { return asset_names_[a]; }
  std::uint64_t transfer_count() const { return transfer_count_; }

  // Deferred rows (issue #15): a range of accounts whose balances at opening are a pure function of
  // their place in the range (a drawn population's positions, agents/passive_positions.hpp), kept
  // unwritten until the account is first touched. fill(k, row) writes account first + k's balances
  // as its opening booked them (n_assets() values, zero on entry). The first read or transfer of such
  // an account writes its row (fill); until then the ledger holds only the range's column sums, so
  // totals() and conservation stay exact. Holder bits, positive totals and the transfer count are
  // booked at opening as for any account (BulkOpening::begin_block). One range per ledger.
  // A million passive positions cost no balance memory until a price, funding or ADL reaches them.
  using RowFill = std::function<void(std::size_t k, Micros* row)>;
  bool has_deferred_rows() const { return deferred_count_ != 0; }
  // Rows of the range not written yet (for tests and the bench's accounting).
  std::size_t deferred_rows_pending() const;
  // Fills every row not written yet into scratch memory and checks that their sums are the range's
  // (ConservationError otherwise). The range's sums lose what each written row was filled with, so
  // this holds only if the fills of all rows, written or not, sum to what the opening booked: the
  // check that fill gives the booked rows (the ledger's totals are consistent either way). O(range);
  // tests and the end of a run with invariant checks.
  void check_deferred_rows() const;

  // Sum of an asset over all accounts, computed in 128 bits so it cannot overflow silently.
  using Int128 = __int128;  // GCC/Clang extension, only for overflow-proof sums
  Int128 total(AssetId asset) const;
  // Sum of the positive balances of an asset over all accounts (for contracts: the open interest),
  // kept up to date by every transfer, so reading it costs nothing however many accounts exist.
  Int128 positive_total(AssetId asset) const { return positive_[asset]; }
  // Every asset's sum over all accounts (total(a) for each a, in one pass: column_sums).
  std::vector<Int128> totals() const;
  // Throws ConservationError naming the asset and the discrepancy if any asset's sum is not zero.
  void check_conservation() const;

  // Calls f(account) for every account holding a non-zero balance of `asset`, in ascending account
  // id. Kept as one bit per (asset, account), updated by every transfer, so visiting the holders of
  // a contract (funding, ADL ranking) reads n_accounts / 64 words and calls f once per holder,
  // instead of looking at every account's balance. f must not move `asset` (other assets: yes).
  template <class F>
  void for_each_holder(AssetId asset, F&& f) const {
    const std::vector<std::uint64_t>& bits = holders_[asset];
    for (std::size_t w = 0; w < bits.size(); ++w)
      for (std::uint64_t b = bits[w]; b != 0; b &= b - 1)
        f(static_cast<AccountId>(w * 64 + static_cast<std::size_t>(__builtin_ctzll(b))));
  }

  // Bulk opening (issue #15): a population's accounts opened and funded in one pass. Each leg moves
  // an amount between a fresh account (opened by this object) and a hub (an issuer, the passive
  // counterparty: an account that may go negative in every asset); the fresh side is applied at
  // once, checked like transfer() (overflow, an account that may not go negative), and the hubs'
  // sides are summed in 128 bits and applied by finish(). The result is the one the same legs give
  // as transfers in any order: the same balances, positive totals and holder bits (each a function
  // of the final balances) and the same transfer count (one per non-zero leg). Change tracking must
  // be off (set-up only); finish() must be called before the ledger is used otherwise.
  class BulkOpening {
   public:
    explicit BulkOpening(Ledger& ledger);
    AccountId open(std::uint32_t stem, std::uint32_t number, bool may_go_negative) {
      return ledger_.open_stem_account(stem, number, may_go_negative);
    }
    AccountId open_range(std::uint32_t stem, std::uint32_t first_number, std::size_t count, bool may_go_negative) {
      return ledger_.open_stem_range(stem, first_number, count, may_go_negative);
    }
    // open_range, its rows deferred (Ledger::RowFill above): the ledger's one deferred range. Its
    // legs are booked a block at a time: begin_block(first, count) gives the block scratch
    // balances (zero, a column per asset, in the cache), in which move(), move_column() and
    // move_block() book its legs as they would in the ledger (the same checks, sums, holder bits
    // and transfer count); end_block() adds the block's balances to the range's sums and returns
    // them (valid until the next begin_block). A leg to an account of the range outside its open
    // block: LedgerError.
    AccountId open_deferred_range(std::uint32_t stem, std::uint32_t first_number, std::size_t count, bool may_go_negative, RowFill fill);
    void begin_block(AccountId first, std::size_t count);
    // A block's balances, a column per asset: account first + k's balance of asset a is at(a, k).
    struct BlockColumns {
      const Micros* base = nullptr;
      std::size_t count = 0;
      Micros at(std::size_t asset, std::size_t k) const { return base[asset * count + k]; }
    };
    BlockColumns end_block();
    // One leg per account of the open block (move_block): amount[k] (>= 0; 0: no leg) of the slot's
    // asset between its hub and account first + k, to the account if to_fresh[k] (nullptr: every one).
    struct BlockLeg {
      std::size_t slot;
      const Micros* amount;
      const bool* to_fresh;
    };
    // The open block's legs, all of them, on a block nothing was booked into yet: the same as
    // move_column(leg.slot, first, count, leg.amount, leg.to_fresh) for each leg in turn. The
    // accounts being fresh (zero), a leg only adds to a balance, and the positive total and the
    // holder bit a row's legs leave one by one are those of its final balance (the changes
    // max(0, b') - max(0, b) telescope); so where nothing can overflow or be refused (at most 4 legs,
    // every amount in [0, 2^50), at most 2,048 accounts, the range opened may_go_negative, no hub in
    // the block) the legs are added into the columns and each column is read once; else each leg
    // goes through move_column.
    void move_block(const BlockLeg* legs, std::size_t n_legs);
    // Blocks booked by move_block's one pass so far (for tests).
    std::size_t blocks_fused() const { return blocks_fused_; }
    // The hub side of one (hub account, asset): registered once (LedgerError if the hub may not go
    // negative in that asset), then named by the returned slot.
    std::size_t hub(AccountId hub, AssetId asset);
    // `amount` >= 0 of the slot's asset from its hub to `fresh` (to_fresh) or back.
    void move(std::size_t slot, AccountId fresh, Micros amount, bool to_fresh) {
      Ledger& L = ledger_;
      HubSum& h = hubs_[slot];
      if (amount <= 0 || fresh >= L.names_.size() || fresh == h.hub) {
        if (amount == 0) return;
        refuse(slot, fresh, amount);
      }
      std::size_t stride;
      Micros& b = *row_of(fresh, 1, h.asset, stride);
      Micros nb;
      if (to_fresh ? __builtin_add_overflow(b, amount, &nb) : __builtin_sub_overflow(b, amount, &nb)) overflow(h.asset, amount);
      if (nb < 0 && !L.may_go_negative(fresh, h.asset)) insufficient(fresh, h.asset, amount, b);
      L.positive_[h.asset] += static_cast<Int128>(nb > 0 ? nb : 0) - static_cast<Int128>(b > 0 ? b : 0);
      b = nb;
      L.set_holder(h.asset, fresh, nb != 0);
      h.delta += to_fresh ? -static_cast<Int128>(amount) : static_cast<Int128>(amount);
      ++legs_;
    }
    // A column of legs, one per account of a block opened by this object: for k < count, amount[k]
    // (>= 0; 0: no leg) of the slot's asset between its hub and account first + k, to the account if
    // to_fresh[k] (nullptr: every one) else back. The same as move() for each k in turn (the same
    // checks and errors, the same balances, sums and holder bits), with the hub's and the asset's
    // sums kept in registers for the column and the block's holder bits written a word at a time:
    // one move() per leg carries those sums through memory from one position to the next, a chain
    // of dependent read-modify-writes that kept a million positions' legs at a few instructions a
    // cycle at best.
    // Where the CPU has AVX2, a column in which nothing can overflow (every amount in [0, 2^50),
    // every balance before it in (-2^50, 2^50), at most 4,096 legs) is booked four legs at a time;
    // any other column by the scalar loop, which has the checks.
    void move_column(std::size_t slot, AccountId first, std::size_t count, const Micros* amount, const bool* to_fresh);
    // Columns booked four legs at a time so far (for tests).
    std::size_t columns_on_lanes() const { return columns_on_lanes_; }
    // Applies the hubs' sums (std::overflow_error if a hub's balance would leave int64).
    void finish();

   private:
    // Where the legs of accounts [first, first + count) are booked: the open block's scratch
    // column of `asset` (stride 1), else the ledger's balances (stride n_assets); LedgerError for an
    // account of the deferred range outside the open block.
    Micros* row_of(AccountId first, std::size_t count, AssetId asset, std::size_t& stride) {
      Ledger& L = ledger_;
      if (first - block_first_ < block_count_ && count <= block_count_ - (first - block_first_)) {
        stride = 1;
        block_fresh_ = false;
        block_totals_known_ = false;
        return block_rows_.data() + asset * block_count_ + (first - block_first_);
      }
      if (L.deferred_count_ != 0 && first < L.deferred_first_ + L.deferred_count_ && first + count > L.deferred_first_) outside_block();
      stride = L.asset_names_.size();
      return L.balances_.data() + L.index(first, asset);
    }
    [[noreturn]] static void outside_block();
    [[noreturn]] void refuse(std::size_t slot, AccountId fresh, Micros amount) const;
    [[noreturn]] void overflow(AssetId asset, Micros amount) const;
    [[noreturn]] void insufficient(AccountId fresh, AssetId asset, Micros amount, Micros balance) const;
    Ledger& ledger_;
    struct HubSum {
      AccountId hub;
      AssetId asset;
      Int128 delta;
    };
    std::vector<HubSum> hubs_;
    AccountId block_first_ = 0;
    std::size_t block_count_ = 0;
    std::vector<Micros> block_rows_;  // the open block's balances (a deferred range's), a column per asset, in the cache
    bool block_fresh_ = false;        // nothing booked into the open block yet
    bool block_totals_known_ = false;  // block_totals_: each column's sum (move_block's pass, nothing booked since)
    std::vector<Micros> block_totals_;
    bool range_negative_ = false;     // the deferred range was opened may_go_negative
    std::size_t blocks_fused_ = 0;
    std::uint64_t legs_ = 0;
    std::size_t columns_on_lanes_ = 0;
  };

  // Change tracking (for the margin engine's liquidation-price index): once enabled, every account
  // a transfer touches is listed once in changed_accounts() until clear_changes().
  void track_changes(bool on) { track_changes_ = on; }
  const std::vector<AccountId>& changed_accounts() const { return changed_; }
  void clear_changes() {
    for (AccountId a : changed_) changed_mark_[a] = 0;
    changed_.clear();
  }

 private:
  std::size_t index(AccountId account, AssetId asset) const {
    return static_cast<std::size_t>(account) * asset_names_.size() + asset;
  }
  std::vector<std::string> asset_names_;
  std::vector<bool> asset_negative_;
  // Account names, packed: a name is stem prefix + number + stem suffix (its first run of digits
  // taken out), the stems shared, so a million "leveraged_trader:N" accounts keep 8 bytes each of
  // name instead of a std::string (32 bytes and a heap block).
  struct PackedName {
    std::uint32_t stem;
    std::uint32_t number;  // kNoNumber: the name is its stem's prefix alone
  };
  static constexpr std::uint32_t kNoNumber = 0xFFFFFFFFu;
  std::vector<std::pair<std::string, std::string>> stems_;  // (prefix, suffix)
  std::unordered_map<std::string, std::uint32_t> stem_ids_;  // prefix + '\0' + suffix -> stem
  // An account opened in a range (open_stem_range) has its name in name_runs_, not in names_
  // (left zero, its pages never written): a million passive positions' names cost nothing.
  struct NameRun {
    AccountId first;
    std::uint32_t count, stem, first_number;
  };
  ZeroGrowVector<PackedName, /*kHugePages=*/false> names_;  // written here and there: 4 KB pages
  std::vector<NameRun> name_runs_;  // by first account, increasing
  std::uint32_t recent_stems_[2] = {0xFFFFFFFFu, 0xFFFFFFFFu};
  std::uint32_t stem_of(std::string_view prefix, std::string_view suffix);
  AccountId add_account(std::uint32_t stem, std::uint32_t number, bool may_go_negative);
  std::vector<bool> account_negative_;
  // Accounts allowed negative in negative_in_asset_ only (a bit each, sized on demand).
  static constexpr AssetId kNoAsset = 0xFFFF;
  std::vector<bool> negative_in_;
  AssetId negative_in_asset_ = kNoAsset;
  // A new account's balances: zero, unwritten until it holds something. Mutable for the deferred
  // rows: a const read of an account whose row is not written yet writes it (ensure_row), the value
  // read being the same either way (a Ledger is used by one thread).
  mutable ZeroGrowVector<Micros> balances_;
  // The deferred range (has_deferred_rows): [deferred_first_, deferred_first_ + deferred_count_).
  AccountId deferred_first_ = 0;
  std::size_t deferred_count_ = 0;
  RowFill fill_;
  mutable ZeroGrowVector<std::uint64_t, false> row_written_;  // bit k: account deferred_first_ + k's row written
  mutable std::vector<Int128> pending_;  // per asset: the sum of the range's rows not written yet
  // Writes account a's row if it is in the deferred range and not written yet: the one check every
  // read and transfer makes (one subtraction and compare when there is no range).
  void ensure_row(AccountId a) const {
    const std::size_t k = static_cast<AccountId>(a - deferred_first_);
    if (k < deferred_count_ && ((row_written_[k / 64] >> (k % 64)) & 1) == 0) [[unlikely]]
      write_deferred_row(k);
  }
  void write_deferred_row(std::size_t k) const;
  std::vector<AccountId> issuer_;
  std::vector<Int128> positive_;  // per asset: sum over accounts of max(0, balance)
  std::vector<std::vector<std::uint64_t>> holders_;  // per asset: bit a % 64 of word a / 64 = balance of account a != 0
  void set_holder(AssetId asset, AccountId a, bool holds) {
    std::uint64_t& w = holders_[asset][a / 64];
    const std::uint64_t bit = std::uint64_t{1} << (a % 64);
    w = holds ? (w | bit) : (w & ~bit);
  }
  std::uint64_t transfer_count_ = 0;
  bool track_changes_ = false;
  ZeroGrowVector<std::uint8_t, false> changed_mark_;  // per account: listed in changed_
  std::vector<AccountId> changed_;
  void note_change(AccountId a) {
    if (changed_mark_[a]) return;
    changed_mark_[a] = 1;
    changed_.push_back(a);
  }
};

}  // namespace sl
