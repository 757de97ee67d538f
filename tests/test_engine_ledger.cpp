// Ledger: double entry, overdraft rules, a property test over random transfer sequences, and the
// fixed-point rounding every amount goes through.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>
#include <limits>
#include <random>
#include <string>

#include "sim/book/ledger.hpp"
#include "sim/core/simd_lanes.hpp"
#include "sim/core/table_math.hpp"

using namespace sl;

TEST_CASE("ledger: mint and transfer are double entry, sums stay exactly zero") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  const AccountId a = L.open_account("a"), b = L.open_account("b");
  L.mint(a, 0, 1'000'000);  // 1 USDT
  CHECK(L.balance(a, 0) == 1'000'000);
  CHECK(L.balance(L.issuer(0), 0) == -1'000'000);
  L.transfer(a, b, 0, 250'000);
  CHECK(L.balance(a, 0) == 750'000);
  CHECK(L.balance(b, 0) == 250'000);
  CHECK(L.total(0) == 0);
  L.check_conservation();
  CHECK(L.transfer_count() == 2);
}

TEST_CASE("ledger: spot cannot be overdrawn, contracts can go short") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  const AccountId a = L.open_account("a"), b = L.open_account("b");
  L.mint(a, 1, 5);
  CHECK_THROWS_AS(L.transfer(a, b, 1, 6), InsufficientFunds);
  CHECK(L.balance(a, 1) == 5);  // nothing moved on the failed transfer
  CHECK(L.balance(b, 1) == 0);
  L.transfer(a, b, 2, 1'000);   // a goes short 1000 micro-contracts
  CHECK(L.balance(a, 2) == -1'000);
  CHECK(L.balance(b, 2) == 1'000);
  CHECK_THROWS_AS(L.transfer(a, b, 0, -1), LedgerError);
  L.check_conservation();
}

TEST_CASE("ledger: overflow is an error, not a wrap") {
  Ledger L({"USDT"}, {false});
  const AccountId a = L.open_account("a"), b = L.open_account("b");
  L.mint(a, 0, INT64_MAX);
  L.mint(b, 0, 1);
  CHECK_THROWS_AS(L.transfer(b, a, 0, 1), std::overflow_error);
  CHECK(L.balance(a, 0) == INT64_MAX);
  CHECK(L.balance(b, 0) == 1);
}

TEST_CASE("ledger property: random transfer sequences keep every asset's sum and match a shadow model") {
  std::mt19937_64 rng(20261123);
  for (int trial = 0; trial < 20; ++trial) {
    const int n_assets = 1 + static_cast<int>(rng() % 4);
    std::vector<std::string> names;
    std::vector<bool> neg;
    for (int i = 0; i < n_assets; ++i) {
      names.emplace_back("A");
      names.back() += std::to_string(i);  // not "A" + to_string(i): GCC 12 -O3 warns (falsely) -Wrestrict on that insert
      neg.push_back(i == n_assets - 1 && n_assets > 1);
    }
    Ledger L(names, neg);
    const int n_acc = 2 + static_cast<int>(rng() % 30);
    std::vector<AccountId> acc;
    for (int i = 0; i < n_acc; ++i) acc.push_back(L.open_account("acc" + std::to_string(i)));
    std::vector<std::vector<__int128>> shadow(L.n_accounts(), std::vector<__int128>(n_assets, 0));
    for (int i = 0; i < n_acc; ++i)
      for (int a = 0; a < n_assets; ++a) {
        const Micros amt = static_cast<Micros>(rng() % 1'000'000'000'000ULL);
        L.mint(acc[i], static_cast<AssetId>(a), amt);
        shadow[acc[i]][a] += amt;
        shadow[L.issuer(static_cast<AssetId>(a))][a] -= amt;
      }
    int refused = 0;
    for (int k = 0; k < 5000; ++k) {
      const AccountId from = acc[rng() % acc.size()], to = acc[rng() % acc.size()];
      const AssetId a = static_cast<AssetId>(rng() % n_assets);
      const Micros amt = static_cast<Micros>(rng() % 2'000'000'000'000ULL);
      const bool allowed = neg[a] || from == to || shadow[from][a] >= amt;
      if (allowed) {
        L.transfer(from, to, a, amt);
        if (from != to) shadow[from][a] -= amt, shadow[to][a] += amt;
      } else {
        CHECK_THROWS_AS(L.transfer(from, to, a, amt), InsufficientFunds);
        ++refused;
      }
    }
    for (std::size_t x = 0; x < L.n_accounts(); ++x)
      for (int a = 0; a < n_assets; ++a) REQUIRE(L.balance(static_cast<AccountId>(x), static_cast<AssetId>(a)) == shadow[x][a]);
    for (int a = 0; a < n_assets; ++a) CHECK(L.total(static_cast<AssetId>(a)) == 0);
    // The incrementally kept sum of positive balances (the open interest of a contract) equals the
    // shadow model's, summed from scratch.
    for (int a = 0; a < n_assets; ++a) {
      __int128 positive = 0;
      for (std::size_t x = 0; x < L.n_accounts(); ++x) positive += shadow[x][a] > 0 ? shadow[x][a] : 0;
      CHECK(L.positive_total(static_cast<AssetId>(a)) == positive);
    }
    CHECK_NOTHROW(L.check_conservation());
    CHECK(refused > 0);  // the sequence exercised the overdraft rule, not only happy paths
  }
}

TEST_CASE("ledger: account names read back exactly as opened (packed as stem + number)") {
  // The first run of digits is stored as a number when it reads back unchanged (1-9 digits, no
  // leading zero); anything else stays in the stem. Each case is its own expected output.
  Ledger L({"USDT"}, {false});
  const std::vector<std::string> names{"leveraged_trader:123456",   "leveraged_trader:123456:wallet",
                                       "x:007",                     "a1b2",
                                       "9999999999",                "0",
                                       "position:42",               "insurance_fund",
                                       "",                          "leveraged_trader:0"};
  std::vector<AccountId> ids;
  for (const std::string& n : names) ids.push_back(L.open_account(n));
  CHECK(L.account_name(0) == "issuer:USDT");
  for (std::size_t i = 0; i < names.size(); ++i) CHECK(L.account_name(ids[i]) == names[i]);
  CHECK(L.account_name(L.open_numbered_account("leveraged_trader:", 7, ":wallet")) == "leveraged_trader:7:wallet");
  CHECK(L.account_name(L.open_numbered_account("", 4294967294u, "")) == "4294967294");
  // A stem looked up once (a population's accounts): the same names, the same stem as before.
  const std::uint32_t wallet = L.name_stem("leveraged_trader:", ":wallet");
  CHECK(wallet == L.name_stem("leveraged_trader:", ":wallet"));
  CHECK(L.account_name(L.open_stem_account(wallet, 8)) == "leveraged_trader:8:wallet");
  const AccountId neg = L.open_stem_account(L.name_stem("position:", ""), 43, /*may_go_negative=*/true);
  CHECK(L.account_name(neg) == "position:43");
  CHECK(L.may_go_negative(neg, 0));
  CHECK_THROWS_AS(L.open_stem_account(1'000'000, 1), LedgerError);
  CHECK_THROWS_AS(L.open_stem_account(wallet, 4294967295u), LedgerError);
}

TEST_CASE("ledger: change tracking lists each account a transfer touched once, until cleared") {
  Ledger L({"USDT"}, {false});
  const AccountId a = L.open_account("a"), b = L.open_account("b"), c = L.open_account("c");
  L.mint(a, 0, 100);  // before tracking: not listed
  L.track_changes(true);
  L.transfer(a, b, 0, 10);
  L.transfer(b, a, 0, 5);
  CHECK(L.changed_accounts() == std::vector<AccountId>{a, b});
  L.clear_changes();
  L.transfer(a, c, 0, 1);
  CHECK(L.changed_accounts() == std::vector<AccountId>{a, c});
}

TEST_CASE("ledger: for_each_holder lists exactly the accounts with a non-zero balance, in id order") {
  // 200 accounts (four words of holder bits and a part word) and random contract transfers between
  // them: after every transfer the holders listed equal a scan of every balance, ascending ids.
  Ledger L({"USDT", "BTC-PERP"}, {false, true});
  std::vector<AccountId> acc;
  for (int i = 0; i < 200; ++i) acc.push_back(L.open_account("acct:" + std::to_string(i)));
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<std::size_t> pick(0, acc.size() - 1);
  std::uniform_int_distribution<int> amount(1, 3);
  const auto scan = [&](AssetId asset) {
    std::vector<AccountId> out;
    for (AccountId a = 0; a < L.n_accounts(); ++a)
      if (L.balance(a, asset) != 0) out.push_back(a);
    return out;
  };
  const auto listed = [&](AssetId asset) {
    std::vector<AccountId> out;
    L.for_each_holder(asset, [&](AccountId a) { out.push_back(a); });
    return out;
  };
  CHECK(listed(1).empty());
  for (int t = 0; t < 3000; ++t) {
    // Small amounts between few accounts: balances often come back to exactly 0 (a holder leaves).
    L.transfer(acc[pick(rng) % 70 + 130], acc[pick(rng) % 70 + 130], 1, amount(rng));
    REQUIRE(listed(1) == scan(1));
  }
  CHECK(!listed(1).empty());
  CHECK(listed(1).front() >= acc[130]);  // only accounts 130..199 ever held the contract
  // Quote: the issuer (negative) and the minted account are its holders.
  L.mint(acc[3], 0, 7);
  CHECK(listed(0) == std::vector<AccountId>{L.issuer(0), acc[3]});
  L.transfer(acc[3], acc[64], 0, 7);  // acc[3] is flat again: no longer listed
  CHECK(listed(0) == std::vector<AccountId>{L.issuer(0), acc[64]});
}

namespace {

// simd::round_half_away and to_int64 over an array, W lanes at a time (n a multiple of W).
template <int W>
[[gnu::always_inline]] inline void round_on_lanes(const double* x, double* rounded, std::int64_t* as_int, std::size_t n) {
  using V = simd::Lanes<W>::V;
  for (std::size_t i = 0; i < n; i += W) {
    const V r = simd::round_half_away<W>(simd::load<V>(x + i));
    simd::store(rounded + i, r);
    simd::store(as_int + i, simd::to_int64<W>(r));
  }
}
void round_on_2(const double* x, double* rounded, std::int64_t* as_int, std::size_t n) { round_on_lanes<2>(x, rounded, as_int, n); }
#if defined(SL_HAVE_AVX2_LANES)
SL_AVX2 void round_on_4(const double* x, double* rounded, std::int64_t* as_int, std::size_t n) { round_on_lanes<4>(x, rounded, as_int, n); }
#endif

}  // namespace

TEST_CASE("fixed point on lanes: round_half_away and to_int64 equal llround_in_range below 2^51, on two lanes and four") {
  // The set-up's amounts (sim/run/own_positions.cpp) are rounded on lanes where every value is below
  // 2^51 in magnitude: the same integer as llround_in_range there, for random doubles over many
  // magnitudes, exact halves k + 0.5 and their neighbours, integers, signed zeros and values next to
  // 2^51.
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> u(-1.0, 1.0), e(-3.0, 15.3);
  std::vector<double> x;
  for (double v : {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999999999999994, -0.49999999999999994, 0x1p51 - 1, -(0x1p51 - 1),
                   0x1p51 - 0.5, -(0x1p51 - 0.5), 0x1p50 + 0.5, 289999.99999999994})
    x.push_back(v);
  for (int n = 0; n < 1'000'000; ++n) {
    x.push_back(u(g) * std::pow(10.0, e(g)));
    const double half = static_cast<double>(static_cast<std::int64_t>(u(g) * 1e12)) + (u(g) < 0 ? -0.5 : 0.5);
    x.push_back(half);
    x.push_back(std::nextafter(half, 0.0));
    x.push_back(std::nextafter(half, 1e300 * half));
  }
  while (x.size() % 4 != 0) x.push_back(0.25);
  std::vector<int> widths{2};
#if defined(SL_HAVE_AVX2_LANES)
  if (simd_double_lanes() == 4) widths.push_back(4);
#endif
  for (const int w : widths) {
    std::vector<double> r(x.size());
    std::vector<std::int64_t> k(x.size());
    if (w == 2) round_on_2(x.data(), r.data(), k.data(), x.size());
#if defined(SL_HAVE_AVX2_LANES)
    if (w == 4) round_on_4(x.data(), r.data(), k.data(), x.size());
#endif
    for (std::size_t i = 0; i < x.size(); ++i) {
      REQUIRE(std::abs(x[i]) < 0x1p51);
      INFO("lanes " << w << ", x = " << x[i]);
      REQUIRE(k[i] == llround_in_range(x[i]));
      REQUIRE(r[i] == static_cast<double>(k[i]));
    }
  }
}

TEST_CASE("fixed point: llround_in_range equals std::llround, halves and negatives included") {
  // Hand cases: halves round away from zero; 0.29 x 1e6 = 289999.99999999994 rounds to 290000.
  CHECK(llround_in_range(2.5) == 3);
  CHECK(llround_in_range(-2.5) == -3);
  CHECK(llround_in_range(2.4999999999999996) == 2);
  CHECK(llround_in_range(-0.5) == -1);
  CHECK(llround_in_range(0.49999999999999994) == 0);
  CHECK(to_fixed(0.29, 1e6) == 290000);
  CHECK(llround_in_range(4503599627370497.0) == 4503599627370497LL);  // 2^52 + 1: an integer already
  // Random doubles over many magnitudes, and exact halves k + 0.5, against libm.
  std::mt19937_64 g(3);
  std::uniform_real_distribution<double> u(-1.0, 1.0), e(-3.0, 18.9);
  for (int n = 0; n < 1'000'000; ++n) {
    const double x = u(g) * std::pow(10.0, e(g));
    REQUIRE(llround_in_range(x) == std::llround(x));
    const double half = static_cast<double>(static_cast<std::int64_t>(u(g) * 1e12)) + (u(g) < 0 ? -0.5 : 0.5);
    REQUIRE(llround_in_range(half) == std::llround(half));
  }
}

TEST_CASE("ledger: column_sums (check_conservation's sums) equal 128-bit sums one value at a time, extremes included") {
  // Tables of 0-13 rows (whole groups of four and a rest) and 1-5 columns: random values over the
  // whole int64 range, values near its ends (INT64_MIN and INT64_MAX themselves), small values;
  // every sum against the plain 128-bit loop. Sums far from zero: a result that ignored the inputs
  // (or dropped the 2^63 bias, or a half of the split) would differ.
  std::mt19937_64 rng(20261207);
  const Micros lo = std::numeric_limits<Micros>::min(), hi = std::numeric_limits<Micros>::max();
  int nonzero = 0, extreme = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const std::size_t n_rows = rng() % 14, n_cols = 1 + rng() % 5;
    std::vector<Micros> t(n_rows * n_cols);
    for (Micros& x : t) {
      switch (rng() % 4) {
        case 0: x = static_cast<Micros>(rng()); break;
        case 1: x = lo + static_cast<Micros>(rng() % 3); break;
        case 2: x = hi - static_cast<Micros>(rng() % 3); break;
        default: x = static_cast<Micros>(rng() % 2001) - 1000;
      }
      extreme += x == lo || x == hi;
    }
    const std::vector<__int128> got = column_sums(t.data(), n_rows, n_cols);
    REQUIRE(got.size() == n_cols);
    for (std::size_t c = 0; c < n_cols; ++c) {
      __int128 want = 0;
      for (std::size_t r = 0; r < n_rows; ++r) want += t[r * n_cols + c];
      REQUIRE(got[c] == want);
      nonzero += want != 0;
    }
  }
  CHECK(nonzero > 5000);
  CHECK(extreme > 1000);
  CHECK(column_sums(nullptr, 0, 3) == std::vector<__int128>(3, 0));
}

TEST_CASE("ledger: totals equal total() per asset on a ledger of 4,003 accounts") {
  Ledger L({"USDT", "BTC", "BTC-PERP"}, {false, false, true});
  std::mt19937_64 rng(7);
  const AccountId first = L.open_stem_range(L.name_stem("a", ""), 1, 4000, /*may_go_negative=*/false);
  std::vector<AccountId> acc;
  for (AccountId i = 0; i < 4000; ++i) acc.push_back(first + i);
  for (int i = 0; i < 20000; ++i) {
    const AssetId asset = static_cast<AssetId>(rng() % 3);
    L.mint(acc[rng() % acc.size()], asset, static_cast<Micros>(rng() % (Micros{1} << 50)));
  }
  const std::vector<Ledger::Int128> sums = L.totals();
  REQUIRE(sums.size() == 3);
  for (AssetId a = 0; a < 3; ++a) CHECK(sums[a] == L.total(a));
  CHECK(L.n_accounts() == 4003);  // the three issuers: 4,003 rows, a rest of three after the groups of four
  L.check_conservation();
}

TEST_CASE("huge pages: HugePageAllocator's large blocks start on a 2 MB boundary, a vector on it keeps its contents") {
  // The allocator serves the ledger's per-account arrays: a block of at least kHugeAllocMin bytes is
  // 2 MB-aligned (so no 4 KB pages are left at its start), a smaller one is malloc's; growth copies
  // the elements as std::vector does.
  HugeVector<std::uint64_t> v;
  std::uint64_t expect = 0, large_blocks = 0, misaligned = 0;
  for (std::uint64_t i = 0; i < 600'000; ++i) {  // 4.8 MB: through small blocks, then large ones
    v.push_back(i * 2654435761u);
    const bool large = v.capacity() * sizeof(std::uint64_t) >= kHugeAllocMin;
    large_blocks += large;
    misaligned += large && reinterpret_cast<std::uintptr_t>(v.data()) % kHugePageBytes != 0;
  }
  CHECK(large_blocks > 400'000);
  CHECK(misaligned == 0);
  for (std::uint64_t i = 0; i < v.size(); ++i) expect += (v[i] == i * 2654435761u);
  CHECK(expect == 600'000);
  HugePageAllocator<std::uint8_t> a;
  std::uint8_t* small = a.allocate(1000);
  std::uint8_t* large = a.allocate(kHugeAllocMin);
  CHECK(reinterpret_cast<std::uintptr_t>(large) % kHugePageBytes == 0);
  small[999] = 1;
  large[kHugeAllocMin - 1] = 2;  // the whole block is writable
  CHECK(small[999] + large[kHugeAllocMin - 1] == 3);
  a.deallocate(small, 1000);
  a.deallocate(large, kHugeAllocMin);
  CHECK_THROWS_AS(a.allocate(static_cast<std::size_t>(-1)), std::bad_array_new_length);
}

TEST_CASE("huge pages: every ZeroedAllocator block is zero-filled, and ZeroGrowVector's new elements are zero, through growth") {
  // Blocks of both kinds and sizes (calloc below kHugeAllocMin, fresh mappings from it) read zero
  // everywhere; a 4 KB-page block is page-aligned. A ZeroGrowVector grown by grow_to and push_back
  // past several reallocations (small blocks, then large ones) keeps every value written and reads
  // zero everywhere else: the tail left by grow_to is never written, so only the allocator's zero
  // fill makes this hold (a block of malloc's, reused, would not).
  const auto all_zero = [](const std::uint8_t* p, std::size_t n) {
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < n; ++i) nonzero += p[i] != 0;
    return nonzero == 0;
  };
  for (int round = 0; round < 3; ++round) {  // later rounds reuse memory the earlier ones wrote and freed
    HugePageAllocator<std::uint8_t> huge;
    SmallPageAllocator<std::uint8_t> small;
    for (std::size_t n : {std::size_t{1}, std::size_t{5000}, kHugeAllocMin - 1, kHugeAllocMin, 3 * kHugeAllocMin + 17}) {
      std::uint8_t* h = huge.allocate(n);
      std::uint8_t* s = small.allocate(n);
      CHECK(all_zero(h, n));
      CHECK(all_zero(s, n));
      if (n >= kHugeAllocMin) {
        CHECK(reinterpret_cast<std::uintptr_t>(h) % kHugePageBytes == 0);
        CHECK(reinterpret_cast<std::uintptr_t>(s) % 4096 == 0);
      }
      std::memset(h, 0xAB, n);  // dirty, then freed: the next round's blocks may be these
      std::memset(s, 0xCD, n);
      huge.deallocate(h, n);
      small.deallocate(s, n);
    }
  }
  ZeroGrowVector<std::uint64_t> big;
  ZeroGrowVector<std::uint32_t, false> sparse;
  std::uint64_t wrong = 0, written = 0;
  for (std::uint64_t i = 0; big.size() < 900'000; ++i) {  // 7.2 MB: several reallocations, small then large blocks
    if (i % 3 == 0) {
      big.grow_to(big.size() + 1 + i % 1000);  // a run of zeros
      sparse.grow_to(sparse.size() + 1 + i % 1000);
    } else {
      big.push_back(i * 2654435761u + 1);  // never zero
      sparse.push_back(static_cast<std::uint32_t>(i) | 1u);
      ++written;
    }
  }
  // Replay the same sequence and compare element by element.
  std::size_t pos = 0, pos32 = 0;
  for (std::uint64_t i = 0; pos < big.size(); ++i) {
    if (i % 3 == 0) {
      for (std::uint64_t k = 0; k < 1 + i % 1000 && pos < big.size(); ++k) wrong += big[pos++] != 0;
      for (std::uint64_t k = 0; k < 1 + i % 1000 && pos32 < sparse.size(); ++k) wrong += sparse[pos32++] != 0;
    } else {
      wrong += big[pos++] != i * 2654435761u + 1;
      wrong += sparse[pos32++] != (static_cast<std::uint32_t>(i) | 1u);
    }
  }
  CHECK(wrong == 0);
  CHECK(written > 1000);
  CHECK(pos32 == sparse.size());
  CHECK(big.capacity() * sizeof(std::uint64_t) >= kHugeAllocMin);
  CHECK(reinterpret_cast<std::uintptr_t>(big.data()) % kHugePageBytes == 0);
  big.grow_to(10);  // never shrinks
  CHECK(big.size() >= 900'000);
}
