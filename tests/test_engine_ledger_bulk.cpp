// Ledger::BulkOpening (sim/book/ledger.hpp): accounts opened and funded in one pass against hubs
// give the ledger the transfers one by one give (balances, positive totals, holders, transfer
// count, conservation), on random legs; and it refuses what transfer() refuses.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/book/ledger.hpp"
#include "sim/core/table_math.hpp"
#include "sim/core/rng.hpp"

using namespace sl;

namespace {

struct Leg {
  int hub;  // 0: an issuer (of the leg's asset), 1: the counterparty
  AssetId asset;
  Micros amount;
  bool to_fresh;
};

// Quote and spot may not go negative; the contract may.
Ledger make_ledger() { return Ledger({"USDT", "BTC", "BTC-PERP"}, {false, false, true}); }

std::vector<AccountId> holders(const Ledger& L, AssetId a) {
  std::vector<AccountId> out;
  L.for_each_holder(a, [&](AccountId acc) { out.push_back(acc); });
  return out;
}

// The bulk-opened ledger is the one the transfers one by one built: every balance, the positive
// totals, the holders and the transfer count; and it balances.
void require_same_ledger(const Ledger& seq, const Ledger& bulk) {
  REQUIRE(seq.n_accounts() == bulk.n_accounts());
  for (AccountId a = 0; a < seq.n_accounts(); ++a)
    for (AssetId x = 0; x < 3; ++x) REQUIRE(seq.balance(a, x) == bulk.balance(a, x));
  for (AssetId x = 0; x < 3; ++x) {
    CHECK(seq.positive_total(x) == bulk.positive_total(x));
    CHECK(holders(seq, x) == holders(bulk, x));
  }
  CHECK(seq.transfer_count() == bulk.transfer_count());
  CHECK_NOTHROW(bulk.check_conservation());
}

}  // namespace

TEST_CASE("bulk opening: the same ledger as the transfers one by one, on random legs") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    // Legs per fresh account: a quote and a spot mint (sometimes 0), then contracts and a cash leg
    // against the counterparty in either direction, as positions are booked; sometimes extra legs.
    const int n = 300;
    std::vector<std::vector<Leg>> legs(n);
    for (int k = 0; k < n; ++k) {
      legs[k].push_back({0, 0, static_cast<Micros>(rng() % 3 == 0 ? 0 : rng() % 1'000'000'000), true});
      if (rng() % 4 == 0) legs[k].push_back({0, 1, static_cast<Micros>(rng() % 5'000'000), true});
      const bool is_long = rng() % 2 == 0;
      legs[k].push_back({1, 2, static_cast<Micros>(rng() % 10'000'000), is_long});
      legs[k].push_back({1, 0, static_cast<Micros>(rng() % 2'000'000'000), !is_long});
      if (rng() % 5 == 0) legs[k].push_back({1, 2, static_cast<Micros>(rng() % 1'000'000), rng() % 2 == 0});
    }
    // Two ledgers with the same history before: the counterparty holds balances of both signs.
    Ledger seq = make_ledger(), bulk = make_ledger();
    std::vector<AccountId> cp(2);
    for (Ledger* L : {&seq, &bulk}) {
      const AccountId c = L->open_account("counterparty", true);
      const AccountId other = L->open_account("other");
      L->mint(other, 0, 5'000'000'000);
      L->transfer(other, c, 0, 1'000'000'000);
      L->transfer(c, other, 2, 3'000'000);  // the counterparty short 3 contracts
      cp[L == &seq ? 0 : 1] = c;
    }
    const std::uint64_t count_before = seq.transfer_count();
    const std::uint32_t stem_b = bulk.name_stem("p:", "");
    Ledger::BulkOpening b(bulk);
    for (int k = 0; k < n; ++k) {
      const AccountId s = seq.open_account("p:" + std::to_string(k + 1), /*may_go_negative=*/true);
      const AccountId f = b.open(stem_b, static_cast<std::uint32_t>(k + 1), true);
      REQUIRE(s == f);
      for (const Leg& g : legs[k]) {
        const AccountId hs = g.hub == 0 ? seq.issuer(g.asset) : cp[0];
        const AccountId hb = g.hub == 0 ? bulk.issuer(g.asset) : cp[1];
        if (g.to_fresh)
          seq.transfer(hs, s, g.asset, g.amount);
        else
          seq.transfer(s, hs, g.asset, g.amount);
        b.move(b.hub(hb, g.asset), f, g.amount, g.to_fresh);
      }
    }
    b.finish();
    require_same_ledger(seq, bulk);
    CHECK(seq.transfer_count() > count_before + 3 * n / 2);  // not vacuous: most legs moved something
    CHECK(bulk.account_name(5) == seq.account_name(5));
  }
}

TEST_CASE("bulk opening: refuses what transfer refuses, and hubs that may not go negative") {
  Ledger L = make_ledger();
  const AccountId plain = L.open_account("plain");           // may not go negative in quote or spot
  const AccountId hub_no_neg = L.open_account("hub_no_neg");  // not allowed as a hub for quote
  L.mint(hub_no_neg, 0, 100);
  {
    Ledger::BulkOpening b(L);
    // transfer(plain -> issuer, 1) would throw InsufficientFunds: so does the bulk leg.
    const std::size_t issuer_quote = b.hub(L.issuer(0), 0);
    CHECK_THROWS_AS(b.move(issuer_quote, plain, 1, /*to_fresh=*/false), InsufficientFunds);
    CHECK_THROWS_AS(b.hub(hub_no_neg, 0), LedgerError);
    // Contracts may go negative anywhere, so any account is a hub for them.
    const std::size_t contracts = b.hub(hub_no_neg, 2);
    CHECK(b.hub(hub_no_neg, 2) == contracts);  // registered once
    CHECK_NOTHROW(b.move(contracts, plain, 7, true));
    CHECK_THROWS_AS(b.move(issuer_quote, plain, -1, true), LedgerError);
    CHECK_THROWS_AS(b.move(contracts, hub_no_neg, 1, true), LedgerError);  // a hub with itself
    CHECK_THROWS_AS(b.move(contracts, 999, 1, true), LedgerError);         // no such account
    b.finish();
  }
  CHECK(L.balance(plain, 2) == 7);
  CHECK(L.balance(hub_no_neg, 2) == -7);
  CHECK(L.balance(plain, 0) == 0);
  CHECK_NOTHROW(L.check_conservation());
  L.track_changes(true);
  CHECK_THROWS_AS(Ledger::BulkOpening{L}, LedgerError);  // set-up only
}

TEST_CASE("open_stem_range opens the accounts open_stem_account opens one by one") {
  // 130 accounts (more than two words of holder bits) after 3 others, may go negative; then a
  // transfer to the last one: the same ids, names, overdraft rule and holders in both ledgers.
  Ledger one = make_ledger(), range = make_ledger();
  for (Ledger* L : {&one, &range}) L->open_account("a"), L->open_account("b"), L->open_account("c");
  const std::uint32_t s1 = one.name_stem("passive_position:", ""), s2 = range.name_stem("passive_position:", "");
  AccountId first_one = 0;
  for (std::uint32_t k = 0; k < 130; ++k) {
    const AccountId a = one.open_stem_account(s1, 7 + k, true);
    if (k == 0) first_one = a;
  }
  const AccountId first_range = range.open_stem_range(s2, 7, 130, true);
  CHECK(first_one == first_range);
  REQUIRE(one.n_accounts() == range.n_accounts());
  CHECK(range.n_accounts() == 3 + 3 + 130);  // 3 issuers, a, b, c, the range
  for (AccountId a = 0; a < one.n_accounts(); ++a) {
    CHECK(one.account_name(a) == range.account_name(a));
    CHECK(one.may_go_negative(a, 0) == range.may_go_negative(a, 0));
  }
  CHECK(range.account_name(first_range + 129) == "passive_position:136");
  for (Ledger* L : {&one, &range}) L->transfer(first_range + 129, first_range, 0, 5);  // may go negative in quote
  CHECK(holders(one, 0) == holders(range, 0));
  CHECK(range.balance(first_range + 129, 0) == -5);
  CHECK(range.open_stem_range(s2, 1, 0) == range.n_accounts());  // none opened
  CHECK_THROWS_AS(range.open_stem_range(s2, 0xFFFFFFF0u, 100), LedgerError);  // numbers past the last one
}

TEST_CASE("open_stem_range: names of ranges and of single accounts between them, as opened one by one") {
  // A range's names are kept as the range (names_ left zero for it): ranges of different stems and
  // lengths (1 to 5,000, one empty) with single accounts of other stems before, between and after,
  // and a range whose first number is not 1; every account's name as the ledger that opened each
  // account alone gives it, and the balances of the range accounts zero until written.
  Ledger one = make_ledger(), range = make_ledger();
  const std::uint32_t pp1 = one.name_stem("passive_position:", ""), pp2 = range.name_stem("passive_position:", "");
  const std::uint32_t w1 = one.name_stem("pos:", ":w"), w2 = range.name_stem("pos:", ":w");
  struct Step {
    int kind;  // 0: a single account, 1: range of passive_position, 2: range of pos:N:w
    std::uint32_t first, count;
  };
  const Step steps[] = {{0, 0, 1}, {1, 1, 5000}, {0, 0, 1}, {2, 40, 3}, {1, 5001, 1}, {2, 1, 0}, {0, 0, 1}, {0, 0, 1}, {2, 900, 777}, {0, 0, 1}};
  int single = 0;
  for (const Step& st : steps) {
    if (st.kind == 0) {
      const std::string name = "single:" + std::to_string(single++);
      CHECK(one.open_account(name) == range.open_account(name));
      continue;
    }
    const std::uint32_t s1 = st.kind == 1 ? pp1 : w1, s2 = st.kind == 1 ? pp2 : w2;
    for (std::uint32_t k = 0; k < st.count; ++k) one.open_stem_account(s1, st.first + k, true);
    range.open_stem_range(s2, st.first, st.count, true);
    REQUIRE(one.n_accounts() == range.n_accounts());
  }
  std::size_t checked = 0;
  for (AccountId a = 0; a < one.n_accounts(); ++a) {
    checked += one.account_name(a) == range.account_name(a);
    for (AssetId x = 0; x < range.n_assets(); ++x) CHECK(range.balance(a, x) == 0);
  }
  CHECK(checked == one.n_accounts());
  CHECK(one.n_accounts() == 3 + 5 + 5000 + 3 + 1 + 777);
  CHECK(range.account_name(3) == "single:0");
  CHECK(range.account_name(4 + 4999) == "passive_position:5000");
  CHECK(range.account_name(4 + 5000) == "single:1");
  CHECK(range.account_name(4 + 5001 + 2) == "pos:42:w");
  CHECK(range.account_name(range.n_accounts() - 2) == "pos:1676:w");
  CHECK(range.account_name(range.n_accounts() - 1) == "single:4");
}

namespace {

// `cols` columns of legs over `n` fresh accounts (one leg per account per column): applied as
// transfers one by one (account by account, its legs in column order) to `seq`, and as move_column
// to `bulk` in blocks of `block` accounts; both ledgers are then compared in full.
struct Column {
  int hub;  // 0: the asset's issuer, 1: the counterparty
  AssetId asset;
  std::vector<Micros> amount;
  std::vector<char> to_fresh;
};

// Before them, `other` moves `counterparty_contracts` contracts to the counterparty. Returns how
// many columns were booked four legs at a time (AVX2).
std::size_t check_columns_equal_transfers(const std::vector<Column>& cols, std::size_t n, std::size_t block, bool may_go_negative,
                                   Micros counterparty_contracts = 0) {
  Ledger seq = make_ledger(), bulk = make_ledger();
  std::vector<AccountId> cp(2);
  for (Ledger* L : {&seq, &bulk}) {
    const AccountId c = L->open_account("counterparty", true);
    const AccountId other = L->open_account("other");  // the fresh accounts start off a word boundary of the holder bits (id 5)
    L->transfer(other, c, 2, counterparty_contracts);
    cp[L == &seq ? 0 : 1] = c;
  }
  const std::uint32_t stem_s = seq.name_stem("p:", ""), stem_b = bulk.name_stem("p:", "");
  const AccountId first = seq.open_stem_range(stem_s, 1, n, may_go_negative);
  for (std::size_t k = 0; k < n; ++k)
    for (const Column& c : cols) {
      const AccountId hub = c.hub == 0 ? seq.issuer(c.asset) : cp[0];
      if (c.to_fresh[k])
        seq.transfer(hub, first + static_cast<AccountId>(k), c.asset, c.amount[k]);
      else
        seq.transfer(first + static_cast<AccountId>(k), hub, c.asset, c.amount[k]);
    }
  Ledger::BulkOpening b(bulk);
  std::vector<std::size_t> slot;
  for (const Column& c : cols) slot.push_back(b.hub(c.hub == 0 ? bulk.issuer(c.asset) : cp[1], c.asset));
  for (std::size_t f = 0; f < n; f += block) {
    const std::size_t m = std::min(block, n - f);
    const AccountId acc0 = b.open_range(stem_b, static_cast<std::uint32_t>(f + 1), m, may_go_negative);
    REQUIRE(acc0 == first + f);
    for (std::size_t i = 0; i < cols.size(); ++i) {
      std::vector<bool> dir(cols[i].to_fresh.begin() + static_cast<std::ptrdiff_t>(f), cols[i].to_fresh.begin() + static_cast<std::ptrdiff_t>(f + m));
      std::unique_ptr<bool[]> to_fresh(new bool[m]);
      for (std::size_t k = 0; k < m; ++k) to_fresh[k] = dir[k];
      b.move_column(slot[i], acc0, m, cols[i].amount.data() + f, to_fresh.get());
    }
  }
  b.finish();
  require_same_ledger(seq, bulk);
  return b.columns_on_lanes();
}

}  // namespace

TEST_CASE("bulk opening: legs as columns (move_column) give the ledger the transfers one by one give") {
  // On the scalar loop (two lanes: no column on lanes) and, where the CPU has AVX2, four legs at a
  // time (every column of the random legs: amounts below 2^50).
  std::vector<int> widths{2};
  if (set_simd_double_lanes_for_testing(4)) widths.push_back(4);
  for (const int width : widths) {
    REQUIRE(set_simd_double_lanes_for_testing(width));
    std::size_t on_lanes = 0, columns = 0;
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      Rng rng(seed);
      const std::size_t n = 700;
      // As passive positions are booked: quote minted (sometimes 0), spot minted for some, contracts
      // and a cash leg against the counterparty in opposite directions (the side a coin toss), the
      // cash often above the quote (a long's quote balance below zero).
      std::vector<Column> cols{{0, 0, {}, {}}, {0, 1, {}, {}}, {1, 2, {}, {}}, {1, 0, {}, {}}};
      for (std::size_t k = 0; k < n; ++k) {
        const bool is_long = rng() % 2 == 0;
        cols[0].amount.push_back(static_cast<Micros>(rng() % 3 == 0 ? 0 : rng() % 1'000'000'000));
        cols[1].amount.push_back(static_cast<Micros>(rng() % 4 == 0 ? rng() % 5'000'000 : 0));
        cols[2].amount.push_back(static_cast<Micros>(1 + rng() % 10'000'000));
        cols[3].amount.push_back(static_cast<Micros>(rng() % 2'000'000'000));
        cols[0].to_fresh.push_back(1), cols[1].to_fresh.push_back(1);
        cols[2].to_fresh.push_back(is_long), cols[3].to_fresh.push_back(!is_long);
      }
      // Blocks of 64 from account 5 (each block's words split), of 1, 3, 1000 (one block).
      for (std::size_t block : {64, 1, 3, 1000}) {
        on_lanes += check_columns_equal_transfers(cols, n, block, true);
        columns += 4 * ((n + block - 1) / block);
      }
    }
    CHECK(on_lanes == (width == 4 ? columns : 0));
    // Sums beyond int64 within a column (the 128-bit path): the counterparty holds 9e18 contracts and
    // four accounts get 4e18 each from it (the column's positive total and hub sum: 1.6e19); then
    // the same, given back.
    const Micros k4e18 = 4'000'000'000'000'000'000, k9e18 = 9'000'000'000'000'000'000;
    std::vector<Column> big{{1, 2, std::vector<Micros>(4, k4e18), std::vector<char>(4, 1)}};
    for (std::size_t block : {4, 3}) CHECK(check_columns_equal_transfers(big, 4, block, true, k9e18) == 0);  // past 2^50: the scalar loop
    big.push_back({1, 2, std::vector<Micros>(4, k4e18), std::vector<char>(4, 0)});
    CHECK(check_columns_equal_transfers(big, 4, 4, true, k9e18) == 0);
  }
  set_simd_double_lanes_for_testing(0);
}

TEST_CASE("bulk opening: move_column refuses what move refuses, naming the first faulty leg") {
  // On the scalar loop and, where the CPU has AVX2, four legs at a time (these columns' amounts are
  // small: a balance below zero is what sends the first case to the check).
  std::vector<int> widths{2};
  if (set_simd_double_lanes_for_testing(4)) widths.push_back(4);
  for (const int width : widths) {
    REQUIRE(set_simd_double_lanes_for_testing(width));
    // Each case on a new ledger: four fresh accounts that may not go negative.
    struct Fresh {
      Ledger L = make_ledger();
      Ledger::BulkOpening b{L};
      AccountId acc0 = b.open_range(L.name_stem("p:", ""), 1, 4, /*may_go_negative=*/false);
    };
    const Micros ok[4] = {5, 0, 7, 9};
    {  // out of an account that may not go negative: InsufficientFunds naming the first (the third)
      Fresh f;
      const std::size_t quote = f.b.hub(f.L.issuer(0), 0);
      f.b.move_column(quote, f.acc0, 4, ok, nullptr);
      const Micros too_much[4] = {5, 0, 8, 10};
      const bool out[4] = {false, false, false, false};
      try {
        f.b.move_column(quote, f.acc0, 4, too_much, out);
        FAIL("no throw");
      } catch (const InsufficientFunds& e) {
        CHECK(std::string(e.what()) == "ledger: p:3 cannot pay 8 micro-USDT (balance 7)");
      }
    }
    {  // a negative amount
      Fresh f;
      const Micros negative[4] = {1, 0, -3, -4};
      CHECK_THROWS_WITH_AS(f.b.move_column(f.b.hub(f.L.issuer(1), 1), f.acc0, 4, negative, nullptr), "ledger: negative transfer amount",
                           LedgerError);
    }
    {  // a balance beyond int64
      Fresh f;
      const std::size_t spot = f.b.hub(f.L.issuer(1), 1);
      f.b.move_column(spot, f.acc0, 4, ok, nullptr);
      const Micros huge[4] = {0, 0, std::numeric_limits<Micros>::max(), 0};
      CHECK_THROWS_AS(f.b.move_column(spot, f.acc0, 4, huge, nullptr), std::overflow_error);
    }
    {  // accounts past the last one, and a hub moving with itself
      Fresh f;
      CHECK_THROWS_AS(f.b.move_column(f.b.hub(f.L.issuer(0), 0), f.acc0, 5, ok, nullptr), LedgerError);
      // Contracts: any account may be their hub. A zero leg with itself is no leg (as move()); 7 is refused.
      CHECK_NOTHROW(f.b.move_column(f.b.hub(f.acc0 + 1, 2), f.acc0, 4, ok, nullptr));
      CHECK_THROWS_AS(f.b.move_column(f.b.hub(f.acc0 + 2, 2), f.acc0, 4, ok, nullptr), LedgerError);
    }
  }
  set_simd_double_lanes_for_testing(0);
}

// ---- Deferred rows (Ledger::RowFill, BulkOpening::open_deferred_range) ----

namespace {

// Account k of a range as a passive position is booked (sim/run/own_positions.cpp): quote minted
// (0 for a third), spot minted for a quarter, contracts and a cash leg against the counterparty in
// opposite directions by the side; all a function of (seed, k), as a drawn position is.
struct PositionLegs {
  Micros quote, spot, contracts, cash;
  bool is_long;
};
PositionLegs position_of(std::uint64_t seed, std::size_t k) {
  std::uint64_t s = splitmix64(seed * 1'000'003 + k);
  const auto next = [&s] { return s = splitmix64(s); };
  PositionLegs p;
  p.quote = next() % 3 == 0 ? 0 : static_cast<Micros>(next() % 1'000'000'000);
  p.spot = next() % 4 == 0 ? static_cast<Micros>(next() % 5'000'000) : 0;
  p.contracts = static_cast<Micros>(1 + next() % 10'000'000);
  p.cash = static_cast<Micros>(next() % 2'000'000'000);  // often above the quote: a long's quote below zero
  p.is_long = next() % 2 == 0;
  return p;
}
// A range's legs as columns (the Column of the tests above: one leg per account), and the rows
// they leave (per account, per asset: the sum of its signed legs).
struct RangeLegs {
  std::vector<Column> cols;
  std::vector<Micros> rows;  // account k's balance of asset a at k * 3 + a
};
RangeLegs position_legs(std::uint64_t seed, std::size_t n) {
  RangeLegs r;
  r.cols = {{0, 0, {}, {}}, {0, 1, {}, {}}, {1, 2, {}, {}}, {1, 0, {}, {}}};
  for (std::size_t k = 0; k < n; ++k) {
    const PositionLegs p = position_of(seed, k);
    r.cols[0].amount.push_back(p.quote), r.cols[0].to_fresh.push_back(1);
    r.cols[1].amount.push_back(p.spot), r.cols[1].to_fresh.push_back(1);
    r.cols[2].amount.push_back(p.contracts), r.cols[2].to_fresh.push_back(p.is_long);
    r.cols[3].amount.push_back(p.cash), r.cols[3].to_fresh.push_back(!p.is_long);
  }
  return r;
}
void compute_rows(RangeLegs& r, std::size_t n) {
  r.rows.assign(n * 3, 0);
  for (const Column& c : r.cols)
    for (std::size_t k = 0; k < n; ++k) r.rows[k * 3 + c.asset] += c.to_fresh[k] ? c.amount[k] : -c.amount[k];
}

// How the deferred ledger books a block: each leg by move_column, all by move_block, or the first
// leg by move_column and then all the others by move_block (a block no longer fresh).
enum class Booking { Columns, Block, ColumnThenBlock };

// Two ledgers with the same accounts: `written` books the range's legs with open_range and
// move_column (rows written), `deferred` with open_deferred_range and begin_block / end_block
// (rows kept as sums), in blocks of `block`; a counterparty and a plain account opened before, one
// account after. The deferred range's fill reads the rows the legs leave (`wrong_row`: account 5's
// quote one unit high).
struct TwoLedgers {
  Ledger written = make_ledger(), deferred = make_ledger();
  AccountId counterparty = 0, other = 0, first = 0, after = 0;
  std::size_t n = 0, blocks = 0, fused = 0;
  std::vector<Micros> block_rows;  // what end_block returned, block after block, as rows

  TwoLedgers(RangeLegs legs, std::size_t n_accounts, std::size_t block, Booking booking, bool may_go_negative = true, bool wrong_row = false)
      : n(n_accounts) {
    compute_rows(legs, n);
    auto rows = std::make_shared<const std::vector<Micros>>(legs.rows);
    const Ledger::RowFill fill = [rows, wrong_row](std::size_t k, Micros* row) {
      for (int a = 0; a < 3; ++a) row[a] = (*rows)[k * 3 + a];
      if (wrong_row && k == 5) row[0] += 1;
    };
    for (Ledger* L : {&written, &deferred}) {
      counterparty = L->open_account("counterparty", true);
      other = L->open_account("other");
      L->mint(other, 0, 5'000'000'000);
      L->transfer(other, counterparty, 2, 3'000'000);
    }
    const std::size_t n_cols = legs.cols.size();
    std::vector<std::unique_ptr<bool[]>> to_fresh;
    for (const Column& c : legs.cols) {
      to_fresh.emplace_back(new bool[n]);
      for (std::size_t k = 0; k < n; ++k) to_fresh.back()[k] = c.to_fresh[k] != 0;
    }
    for (Ledger* L : {&written, &deferred}) {
      const bool defer = L == &deferred;
      first = static_cast<AccountId>(L->n_accounts());
      const std::uint32_t stem = L->name_stem("p:", "");
      Ledger::BulkOpening b(*L);
      std::vector<std::size_t> slot;
      for (const Column& c : legs.cols) slot.push_back(b.hub(c.hub == 0 ? L->issuer(c.asset) : counterparty, c.asset));
      if (defer) REQUIRE(b.open_deferred_range(stem, 1, n, may_go_negative, fill) == first);
      for (std::size_t f = 0; f < n; f += block) {
        const std::size_t m = std::min(block, n - f);
        const AccountId acc0 =
            defer ? first + static_cast<AccountId>(f) : b.open_range(stem, static_cast<std::uint32_t>(f + 1), m, may_go_negative);
        REQUIRE(acc0 == first + f);
        if (defer) b.begin_block(acc0, m);
        std::vector<Ledger::BulkOpening::BlockLeg> block_legs;
        for (std::size_t i = 0; i < n_cols; ++i) block_legs.push_back({slot[i], legs.cols[i].amount.data() + f, to_fresh[i].get() + f});
        if (!defer || booking == Booking::Columns) {
          for (const auto& g : block_legs) b.move_column(g.slot, acc0, m, g.amount, g.to_fresh);
        } else if (booking == Booking::Block) {
          b.move_block(block_legs.data(), block_legs.size());
        } else {
          b.move_column(block_legs[0].slot, acc0, m, block_legs[0].amount, block_legs[0].to_fresh);
          b.move_block(block_legs.data() + 1, block_legs.size() - 1);
        }
        if (defer) {
          const Ledger::BulkOpening::BlockColumns cols = b.end_block();
          REQUIRE(cols.count == m);
          for (std::size_t k = 0; k < m; ++k)
            for (std::size_t a = 0; a < 3; ++a) block_rows.push_back(cols.at(a, k));
          ++blocks;
        }
      }
      if (defer) fused = b.blocks_fused();
      b.finish();
      after = L->open_account("after");
      L->mint(after, 0, 1'000);
    }
  }
};

std::vector<Ledger::Int128> positive_totals(const Ledger& L) { return {L.positive_total(0), L.positive_total(1), L.positive_total(2)}; }

}  // namespace

// The deferred ledger against the written one: before any read, after some reads and transfers
// (the same on both), and after every balance is read.
void check_deferred_equals_written(TwoLedgers& t, std::uint64_t seed) {
      const std::size_t n = t.n;
      Ledger& W = t.written;
      Ledger& D = t.deferred;
      REQUIRE(D.has_deferred_rows());
      REQUIRE_FALSE(W.has_deferred_rows());
      CHECK_NOTHROW(W.check_deferred_rows());  // no range: nothing to check
      // Nothing read yet: every row still unwritten, the sums, holders and counts already the same.
      CHECK(D.deferred_rows_pending() == n);
      CHECK(D.totals() == W.totals());
      CHECK(positive_totals(D) == positive_totals(W));
      for (AssetId x = 0; x < 3; ++x) CHECK(holders(D, x) == holders(W, x));
      CHECK(D.transfer_count() == W.transfer_count());
      CHECK_NOTHROW(D.check_conservation());
      CHECK_NOTHROW(D.check_deferred_rows());
      // end_block gave the rows the written ledger holds.
      for (std::size_t k = 0; k < n; ++k)
        for (AssetId x = 0; x < 3; ++x) REQUIRE(t.block_rows[k * 3 + x] == W.balance(t.first + static_cast<AccountId>(k), x));

      // Some rows read, some moved first (a transfer in and out of rows never read, between two of
      // them, to accounts outside the range): the same transfers on both ledgers.
      Rng rng(seed);
      std::set<AccountId> touched;
      for (int i = 0; i < 60; ++i) {
        const AccountId a = t.first + static_cast<AccountId>(rng() % n), b = t.first + static_cast<AccountId>(rng() % n);
        const AssetId x = static_cast<AssetId>(rng() % 3);
        switch (i % 4) {
          case 0:
            CHECK(D.balance(a, x) == W.balance(a, x));
            touched.insert(a);
            break;
          case 1:
            for (Ledger* L : {&W, &D}) L->transfer(t.other, a, 0, 1'000 + i);
            touched.insert(a);
            break;
          case 2:  // contracts between two positions (either may go negative)
            for (Ledger* L : {&W, &D}) L->transfer(a, b, 2, 17);
            touched.insert(a), touched.insert(b);
            break;
          default:
            for (Ledger* L : {&W, &D}) L->transfer(a, t.after, 2, 5);
            touched.insert(a);
        }
      }
      CHECK(D.deferred_rows_pending() == n - touched.size());
      CHECK(D.totals() == W.totals());
      CHECK(positive_totals(D) == positive_totals(W));
      CHECK(D.transfer_count() == W.transfer_count());
      CHECK_NOTHROW(D.check_conservation());
      CHECK_NOTHROW(D.check_deferred_rows());
      require_same_ledger(W, D);  // reads every balance: every row written
      CHECK(D.deferred_rows_pending() == 0);
      CHECK(D.totals() == W.totals());
      CHECK(D.account_name(t.first + 5) == "p:6");
}

TEST_CASE("deferred rows: the ledger of the range booked with its rows written, whatever reads or moves them first") {
  // Each leg by move_column, or a block's legs at once by move_block (its one pass, on the scalar
  // loop and, where the CPU has AVX2, compiled for it), in blocks of 64 (from account 2: words
  // split), 1, 3 and 1,000 (move_block's pass takes at most 2,048).
  std::vector<int> widths{2};
  if (set_simd_double_lanes_for_testing(4)) widths.push_back(4);
  for (const int width : widths) {
    REQUIRE(set_simd_double_lanes_for_testing(width));
    for (std::uint64_t seed = 1; seed <= 4; ++seed)
      for (const std::size_t block : {std::size_t{64}, std::size_t{1}, std::size_t{3}, std::size_t{1000}})
        for (const Booking booking : {Booking::Columns, Booking::Block}) {
          TwoLedgers t(position_legs(seed, 700), 700, block, booking);
          CHECK(t.fused == (booking == Booking::Block ? t.blocks : 0));
          check_deferred_equals_written(t, seed);
        }
  }
  set_simd_double_lanes_for_testing(0);
}

TEST_CASE("deferred rows: move_block books through move_column where its one pass does not apply") {
  // A fifth leg (a second contracts leg); an amount of 2^50 in the second block (the others still
  // in one pass); a block with a leg already booked; a range whose accounts may not go negative (only
  // mints and contracts: nothing below zero in quote or spot). Each the written ledger's.
  const std::size_t n = 300, block = 64, blocks = (n + block - 1) / block;
  {
    RangeLegs legs = position_legs(11, n);
    legs.cols.push_back({1, 2, std::vector<Micros>(n, 3), std::vector<char>(n, 1)});
    TwoLedgers t(legs, n, block, Booking::Block);
    CHECK(t.fused == 0);
    check_deferred_equals_written(t, 11);
  }
  {
    RangeLegs legs = position_legs(12, n);
    legs.cols[0].amount[70] = Micros{1} << 50;
    TwoLedgers t(legs, n, block, Booking::Block);
    CHECK(t.fused == blocks - 1);
    check_deferred_equals_written(t, 12);
  }
  {
    TwoLedgers t(position_legs(13, n), n, block, Booking::ColumnThenBlock);
    CHECK(t.fused == 0);
    check_deferred_equals_written(t, 13);
  }
  {
    RangeLegs legs = position_legs(14, n);
    legs.cols = {legs.cols[0], legs.cols[1], legs.cols[2]};
    TwoLedgers t(legs, n, block, Booking::Block, /*may_go_negative=*/false);
    CHECK(t.fused == 0);
    check_deferred_equals_written(t, 14);
  }
}

TEST_CASE("deferred rows: a fill that is not what the opening booked is caught") {
  // Account 5's quote filled one micro-unit high: check_deferred_rows finds it before any read and
  // after (the range's sums lose what each written row was filled with, so the rows filled and
  // those not yet sum to what the opening booked only if every fill is right); the ledger's own
  // sums stay consistent (conservation holds: the unit is in the row, not created by a transfer).
  TwoLedgers t(position_legs(3, 100), 100, 64, Booking::Block, true, /*wrong_row=*/true);
  Ledger& D = t.deferred;
  CHECK_NOTHROW(D.check_conservation());  // the sums are the booking's
  CHECK_THROWS_AS(D.check_deferred_rows(), ConservationError);
  CHECK(D.balance(t.first + 5, 0) == t.written.balance(t.first + 5, 0) + 1);
  CHECK_NOTHROW(D.check_conservation());
  CHECK_THROWS_WITH_AS(D.check_deferred_rows(),
                       "conservation violated: the deferred rows' USDT sums to 23036243588 micro-units, their opening booked 23036243587",
                       ConservationError);
}

TEST_CASE("deferred rows: refused outside their block, a second range and a missing fill") {
  Ledger L = make_ledger();
  const AccountId before = L.open_account("before");
  const auto zero_row = [](std::size_t, Micros*) {};
  Ledger::BulkOpening b(L);
  const std::size_t quote = b.hub(L.issuer(0), 0);
  const std::uint32_t stem = L.name_stem("p:", "");
  CHECK_THROWS_AS(b.open_deferred_range(stem, 1, 4, true, nullptr), LedgerError);
  const AccountId first = b.open_deferred_range(stem, 1, 8, true, zero_row);
  CHECK(first == before + 1);
  CHECK_THROWS_AS(b.open_deferred_range(stem, 9, 4, true, zero_row), LedgerError);
  const Micros ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
  CHECK_THROWS_AS(b.move_column(quote, first, 4, ones, nullptr), LedgerError);  // no block open
  CHECK_THROWS_AS(b.begin_block(first + 6, 3), LedgerError);                  // past the range
  CHECK_THROWS_AS(b.begin_block(before, 1), LedgerError);                     // before it
  b.begin_block(first, 4);
  CHECK_THROWS_AS(b.move_column(quote, first + 2, 4, ones, nullptr), LedgerError);  // straddles the block's end
  CHECK_THROWS_AS(b.move(quote, first + 4, 1, true), LedgerError);                   // in the range, outside the block
  CHECK_NOTHROW(b.move_column(quote, first, 4, ones, nullptr));
  CHECK_NOTHROW(b.move(quote, before, 1, true));  // outside the range: the ledger's own row
  b.end_block();
  b.finish();
  // The rows' fill writes nothing: the four booked units are in the sums, not in the rows.
  CHECK_THROWS_AS(L.check_deferred_rows(), ConservationError);
}
