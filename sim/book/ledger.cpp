#include "sim/book/ledger.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <sstream>

#include "sim/core/huge_pages.hpp"
#include "sim/core/table_math.hpp"

namespace sl {

Ledger::Ledger(std::vector<std::string> asset_names, std::vector<bool> negative_allowed)
    : asset_names_(std::move(asset_names)), asset_negative_(std::move(negative_allowed)) {
  if (asset_negative_.size() != asset_names_.size()) throw LedgerError("ledger: asset flags size mismatch");
  positive_.assign(asset_names_.size(), 0);
  holders_.resize(asset_names_.size());
  for (std::size_t a = 0; a < asset_names_.size(); ++a) issuer_.push_back(open_account("issuer:" + asset_names_[a], true));
}

AccountId Ledger::open_account(const std::string& name, bool may_go_negative) {
  // Split off the first run of digits if it reads back unchanged (1 to 9 digits, no leading zero).
  const std::string_view n(name);
  std::size_t b = 0;
  while (b < n.size() && !(n[b] >= '0' && n[b] <= '9')) ++b;
  std::size_t e = b;
  while (e < n.size() && n[e] >= '0' && n[e] <= '9') ++e;
  if (e > b && e - b <= 9 && (e - b == 1 || n[b] != '0')) {
    std::uint32_t number = 0;
    for (std::size_t i = b; i < e; ++i) number = number * 10 + static_cast<std::uint32_t>(n[i] - '0');
    return open_numbered_account(n.substr(0, b), number, n.substr(e), may_go_negative);
  }
  return add_account(stem_of(n, {}), kNoNumber, may_go_negative);
}

AccountId Ledger::open_numbered_account(std::string_view prefix, std::uint32_t number, std::string_view suffix,
                                        bool may_go_negative) {
  if (number == kNoNumber) throw LedgerError("ledger: account number out of range");
  return add_account(stem_of(prefix, suffix), number, may_go_negative);
}

AccountId Ledger::open_stem_account(std::uint32_t stem, std::uint32_t number, bool may_go_negative) {
  if (stem >= stems_.size()) throw LedgerError("ledger: unknown account name stem");
  if (number == kNoNumber) throw LedgerError("ledger: account number out of range");
  return add_account(stem, number, may_go_negative);
}

// The stem (prefix, suffix), added if new; the two last used are checked first (a population opens
// its accounts one after another under the same one or two stems: an account and its wallet).
std::uint32_t Ledger::stem_of(std::string_view prefix, std::string_view suffix) {
  for (const std::uint32_t r : recent_stems_)
    if (r < stems_.size() && stems_[r].first == prefix && stems_[r].second == suffix) return r;
  std::string key(prefix);
  key += '\0';
  key += suffix;
  const auto [it, added] = stem_ids_.try_emplace(std::move(key), static_cast<std::uint32_t>(stems_.size()));
  if (added) stems_.emplace_back(std::string(prefix), std::string(suffix));
  recent_stems_[1] = recent_stems_[0];
  recent_stems_[0] = it->second;
  return it->second;
}

AccountId Ledger::add_account(std::uint32_t stem, std::uint32_t number, bool may_go_negative) {
  names_.push_back(PackedName{stem, number});
  account_negative_.push_back(may_go_negative);
  changed_mark_.push_back(0);
  balances_.grow_to(names_.size() * asset_names_.size());
  if (!holders_.empty() && names_.size() > holders_.front().size() * 64)
    for (auto& bits : holders_) bits.push_back(0);
  return static_cast<AccountId>(names_.size() - 1);
}

AccountId Ledger::open_stem_range(std::uint32_t stem, std::uint32_t first_number, std::size_t count, bool may_go_negative) {
  if (stem >= stems_.size()) throw LedgerError("ledger: unknown account name stem");
  if (count == 0) return static_cast<AccountId>(names_.size());
  if (first_number == kNoNumber || count - 1 >= static_cast<std::size_t>(kNoNumber - first_number))
    throw LedgerError("ledger: account number out of range");
  const std::size_t first = names_.size(), end = first + count;
  if (end > static_cast<std::size_t>(std::numeric_limits<AccountId>::max())) throw LedgerError("ledger: too many accounts");
  names_.grow_to(end);  // the names: the run's
  name_runs_.push_back(NameRun{static_cast<AccountId>(first), static_cast<std::uint32_t>(count), stem, first_number});
  account_negative_.resize(end, may_go_negative);
  changed_mark_.grow_to(end);
  balances_.grow_to(end * asset_names_.size());
  for (auto& bits : holders_)
    if (bits.size() * 64 < end) bits.resize((end + 63) / 64, 0);
  return static_cast<AccountId>(first);
}

void Ledger::reserve_accounts(std::size_t n) {
  names_.reserve(n);
  account_negative_.reserve(n);
  changed_mark_.reserve(n);
  balances_.reserve(n * asset_names_.size());
  for (auto& bits : holders_) bits.reserve((n + 63) / 64);
}

std::string Ledger::account_name(AccountId a) const {
  PackedName p = names_[a];
  // The run the account was opened in, if any: the last run starting at or before it.
  const auto run = std::upper_bound(name_runs_.begin(), name_runs_.end(), a, [](AccountId x, const NameRun& r) { return x < r.first; });
  if (run != name_runs_.begin() && a - std::prev(run)->first < std::prev(run)->count)
    p = PackedName{std::prev(run)->stem, std::prev(run)->first_number + (a - std::prev(run)->first)};
  const auto& [prefix, suffix] = stems_[p.stem];
  if (p.number == kNoNumber) return prefix;
  return prefix + std::to_string(p.number) + suffix;
}

void Ledger::transfer(AccountId from, AccountId to, AssetId asset, Micros amount) {
  if (amount < 0) throw LedgerError("ledger: negative transfer amount");
  if (from >= names_.size() || to >= names_.size() || asset >= asset_names_.size())
    throw LedgerError("ledger: transfer names an unknown account or asset");
  if (amount == 0 || from == to) return;
  ensure_row(from);
  ensure_row(to);
  Micros& src = balances_[index(from, asset)];
  Micros& dst = balances_[index(to, asset)];
  Micros new_src, new_dst;
  if (__builtin_sub_overflow(src, amount, &new_src) || __builtin_add_overflow(dst, amount, &new_dst))
    throw std::overflow_error("ledger: balance overflow moving " + std::to_string(amount) + " " + asset_names_[asset]);
  if (new_src < 0 && !may_go_negative(from, asset)) {
    std::ostringstream os;
    os << "ledger: " << account_name(from) << " cannot pay " << amount << " micro-" << asset_names_[asset]
       << " (balance " << src << ")";
    throw InsufficientFunds(os.str());
  }
  const auto pos = [](Micros v) -> Int128 { return v > 0 ? v : 0; };
  positive_[asset] += pos(new_src) - pos(src) + pos(new_dst) - pos(dst);
  src = new_src;
  dst = new_dst;
  set_holder(asset, from, new_src != 0);
  set_holder(asset, to, new_dst != 0);
  ++transfer_count_;
  if (track_changes_) {
    note_change(from);
    note_change(to);
  }
}

Ledger::BulkOpening::BulkOpening(Ledger& ledger) : ledger_(ledger) {
  if (ledger_.track_changes_) throw LedgerError("ledger: bulk opening with change tracking on (set-up only)");
}

std::size_t Ledger::BulkOpening::hub(AccountId hub, AssetId asset) {
  const Ledger& L = ledger_;
  if (hub >= L.names_.size() || asset >= L.asset_names_.size()) throw LedgerError("ledger: transfer names an unknown account or asset");
  if (!L.may_go_negative(hub, asset))
    throw LedgerError("ledger: bulk opening hub " + L.account_name(hub) + " may not go negative in " + L.asset_names_[asset]);
  for (std::size_t h = 0; h < hubs_.size(); ++h)
    if (hubs_[h].hub == hub && hubs_[h].asset == asset) return h;
  hubs_.push_back({hub, asset, 0});
  return hubs_.size() - 1;
}

AccountId Ledger::BulkOpening::open_deferred_range(std::uint32_t stem, std::uint32_t first_number, std::size_t count, bool may_go_negative,
                                                   RowFill fill) {
  Ledger& L = ledger_;
  if (L.deferred_count_ != 0) throw LedgerError("ledger: one deferred range per ledger");
  if (!fill) throw LedgerError("ledger: a deferred range needs its rows' fill");
  const AccountId first = L.open_stem_range(stem, first_number, count, may_go_negative);
  if (count == 0) return first;
  L.deferred_first_ = first;
  L.deferred_count_ = count;
  L.fill_ = std::move(fill);
  L.row_written_.grow_to((count + 63) / 64);  // zero: no row written
  L.pending_.assign(L.asset_names_.size(), 0);
  range_negative_ = may_go_negative;
  return first;
}

void Ledger::BulkOpening::begin_block(AccountId first, std::size_t count) {
  const Ledger& L = ledger_;
  if (first < L.deferred_first_ || first - L.deferred_first_ > L.deferred_count_ || count > L.deferred_count_ - (first - L.deferred_first_))
    throw LedgerError("ledger: a block of the deferred range outside it");
  block_first_ = first;
  block_count_ = count;
  block_rows_.assign(count * L.asset_names_.size(), 0);
  block_fresh_ = true;
  block_totals_known_ = false;
  block_totals_.assign(L.asset_names_.size(), 0);
}

Ledger::BulkOpening::BlockColumns Ledger::BulkOpening::end_block() {
  Ledger& L = ledger_;
  if (block_totals_known_)  // move_block summed them (the other columns are zero)
    for (std::size_t a = 0; a < L.asset_names_.size(); ++a) L.pending_[a] += block_totals_[a];
  else
    for (std::size_t a = 0; a < L.asset_names_.size(); ++a) L.pending_[a] += column_sums(block_rows_.data() + a * block_count_, block_count_, 1)[0];
  const BlockColumns out{block_rows_.data(), block_count_};
  block_count_ = 0;
  block_fresh_ = false;
  block_totals_known_ = false;
  return out;
}

namespace {

// move_block's one pass (see there): the legs' amounts checked (every one in [0, 2^50), else false
// with nothing written); the legs added into the block's columns, the hubs' sums and the legs
// counted; then each touched column read once for its positive total, its total and its holder
// bits. Plain loops over contiguous columns, which the compiler vectorises (compiled for AVX2 too,
// below, where the holder bits come four accounts from one compare). The direction by mask: +a or
// -a with no branch on a position's side.
struct FusedLeg {
  Micros* column;
  const Micros* amount;
  const bool* to_fresh;
  Micros delta;        // out: the hub's change
  std::uint64_t legs;  // out: legs moving something
};
struct FusedColumn {
  const Micros* column;
  std::uint64_t* holder_words;
  Micros positive, total;  // out
};

// Bits col[k] != 0 of accounts first + k into the holder words (those of accounts outside the block
// kept), a word at a time: the bits of a word's accounts gathered in `held`, the word written
// (flush_holder_word) when its last account in the block is.
inline void flush_holder_word(std::uint64_t& held, std::uint64_t* words, std::size_t first, std::size_t count, std::size_t k) {
  const std::size_t acc = first + k, bit = acc % 64;
  if (bit != 63 && k + 1 != count) return;
  const std::size_t lo = acc - std::min<std::size_t>(k, bit);
  const std::uint64_t mask = (bit == 63 ? ~std::uint64_t{0} : (std::uint64_t{2} << bit) - 1) & ~((std::uint64_t{1} << (lo % 64)) - 1);
  std::uint64_t& w = words[acc / 64];
  w = (w & ~mask) | held;
  held = 0;
}
inline void holder_bits_from(const Micros* col, std::uint64_t* words, std::size_t first, std::size_t count, std::size_t k, std::size_t end,
                             std::uint64_t& held) {
  for (; k < end; ++k) {
    held |= static_cast<std::uint64_t>(col[k] != 0) << ((first + k) % 64);
    flush_holder_word(held, words, first, count, k);
  }
}
void holder_bits_scalar(const Micros* col, std::uint64_t* words, std::size_t first, std::size_t count) {
  std::uint64_t held = 0;
  holder_bits_from(col, words, first, count, 0, count, held);
}
#if defined(SL_HAVE_AVX2_LANES)
// The same, four accounts from one compare: one at a time up to an account number that is a
// multiple of 4 (a group never straddles a word), then four at a time.
SL_AVX2 void holder_bits_avx2(const Micros* col, std::uint64_t* words, std::size_t first, std::size_t count) {
  std::uint64_t held = 0;
  std::size_t k = std::min(count, (4 - first % 4) % 4);
  holder_bits_from(col, words, first, count, 0, k, held);
  const __m256i zero = _mm256_setzero_si256();
  for (; k + 4 <= count; k += 4) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(col + k));
    const int zero_bits = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(v, zero)));
    held |= static_cast<std::uint64_t>(~zero_bits & 0xF) << ((first + k) % 64);
    flush_holder_word(held, words, first, count, k + 3);
  }
  holder_bits_from(col, words, first, count, k, count, held);
}
#endif

// One leg with directions added into its column: col[k] += +a[k] or -a[k] (to[k] or not); the hub's
// change and the legs moving something returned.
inline void add_leg_scalar(Micros* __restrict col, const Micros* __restrict a, const bool* __restrict to, std::size_t k, std::size_t count,
                           Micros& delta, std::uint64_t& moved) {
  for (; k < count; ++k) {
    const std::uint64_t back = static_cast<std::uint64_t>(to[k]) - 1;  // 0: to the account, all ones: back
    const auto s = static_cast<Micros>((static_cast<std::uint64_t>(a[k]) ^ back) - back);
    col[k] += s;
    delta -= s;
    moved += a[k] != 0;
  }
}
#if defined(SL_HAVE_AVX2_LANES)
// The same four legs at a time (the compiler does not vectorise the bool-to-mask loop above): four
// bools read as one word, widened to 64-bit lanes, compared with zero for the mask.
SL_AVX2 void add_leg_avx2(Micros* col, const Micros* a, const bool* to, std::size_t count, Micros& delta, std::uint64_t& moved) {
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi64x(1);
  __m256i delta4 = zero, moved4 = zero;
  std::size_t k = 0;
  for (; k + 4 <= count; k += 4) {
    std::uint32_t bytes;
    std::memcpy(&bytes, to + k, sizeof bytes);  // four bools, each 0 or 1
    const __m256i back = _mm256_cmpeq_epi64(_mm256_cvtepu8_epi64(_mm_cvtsi32_si128(static_cast<int>(bytes))), zero);
    const __m256i av = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + k));
    const __m256i sv = _mm256_sub_epi64(_mm256_xor_si256(av, back), back);  // +a or -a
    __m256i* const c = reinterpret_cast<__m256i*>(col + k);
    _mm256_storeu_si256(c, _mm256_add_epi64(_mm256_loadu_si256(c), sv));
    delta4 = _mm256_sub_epi64(delta4, sv);
    moved4 = _mm256_add_epi64(moved4, _mm256_add_epi64(one, _mm256_cmpeq_epi64(av, zero)));  // 1 unless the amount is 0
  }
  alignas(32) std::int64_t lane[2][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane[0]), delta4);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane[1]), moved4);
  for (int i = 0; i < 4; ++i) {
    delta += lane[0][i];
    moved += static_cast<std::uint64_t>(lane[1][i]);
  }
  add_leg_scalar(col, a, to, k, count, delta, moved);
}
#endif

template <bool kAvx2>
[[gnu::always_inline]] inline bool fused_block_pass(FusedLeg* legs, std::size_t n_legs, FusedColumn* cols, std::size_t n_cols, std::size_t first,
                                                    std::size_t count) {
  constexpr std::uint64_t kBound = std::uint64_t{1} << 50;
  std::uint64_t out_of_range = 0;
  for (std::size_t i = 0; i < n_legs; ++i) {
    const Micros* __restrict a = legs[i].amount;
    for (std::size_t k = 0; k < count; ++k) out_of_range |= static_cast<std::uint64_t>(static_cast<std::uint64_t>(a[k]) >= kBound);  // negative too
  }
  if (out_of_range != 0) return false;
  for (std::size_t i = 0; i < n_legs; ++i) {
    FusedLeg& g = legs[i];
    Micros* __restrict col = g.column;
    const Micros* __restrict a = g.amount;
    Micros delta = 0;
    std::uint64_t moved = 0;
    if (g.to_fresh == nullptr) {
      for (std::size_t k = 0; k < count; ++k) {
        col[k] += a[k];
        delta -= a[k];
        moved += a[k] != 0;
      }
    } else {
#if defined(SL_HAVE_AVX2_LANES)
      if constexpr (kAvx2) add_leg_avx2(col, a, g.to_fresh, count, delta, moved);
      else
#endif
        add_leg_scalar(col, a, g.to_fresh, 0, count, delta, moved);
    }
    g.delta = delta;
    g.legs = moved;
  }
  for (std::size_t t = 0; t < n_cols; ++t) {
    const Micros* __restrict col = cols[t].column;
    Micros positive = 0, total = 0;
    for (std::size_t k = 0; k < count; ++k) {
      positive += col[k] > 0 ? col[k] : 0;
      total += col[k];
    }
    cols[t].positive = positive;
    cols[t].total = total;
#if defined(SL_HAVE_AVX2_LANES)
    if constexpr (kAvx2) {
      holder_bits_avx2(col, cols[t].holder_words, first, count);
      continue;
    }
#endif
    holder_bits_scalar(col, cols[t].holder_words, first, count);
  }
  return true;
}

bool fused_block_pass_sse2(FusedLeg* legs, std::size_t n_legs, FusedColumn* cols, std::size_t n_cols, std::size_t first, std::size_t count) {
  return fused_block_pass<false>(legs, n_legs, cols, n_cols, first, count);
}
#if defined(SL_HAVE_AVX2_LANES)
SL_AVX2 __attribute__((flatten)) bool fused_block_pass_avx2(FusedLeg* legs, std::size_t n_legs, FusedColumn* cols, std::size_t n_cols,
                                                            std::size_t first, std::size_t count) {
  return fused_block_pass<true>(legs, n_legs, cols, n_cols, first, count);
}
#endif

}  // namespace

void Ledger::BulkOpening::move_block(const BlockLeg* legs, std::size_t n_legs) {
  Ledger& L = ledger_;
  const std::size_t count = block_count_;
  constexpr std::size_t kMaxLegs = 4, kMaxCount = 2048;
  bool fused = block_fresh_ && range_negative_ && n_legs <= kMaxLegs && count <= kMaxCount && count > 0;
  for (std::size_t i = 0; i < n_legs && fused; ++i) {
    const HubSum& h = hubs_.at(legs[i].slot);
    fused = !(h.hub >= block_first_ && h.hub - block_first_ < count);
  }
  // At most 4 legs of amounts below 2^50 (checked by the pass) on zero balances: every balance below
  // 2^52 in magnitude, every column's sums below 2,048 x 2^52 = 2^63; no balance can be refused (the
  // accounts may go negative in every asset).
  FusedLeg fl[kMaxLegs];
  FusedColumn fc[kMaxLegs];
  AssetId col_asset[kMaxLegs];
  std::size_t n_cols = 0;
  if (fused) {
    for (std::size_t i = 0; i < n_legs; ++i) {
      const AssetId a = hubs_[legs[i].slot].asset;
      fl[i] = FusedLeg{block_rows_.data() + a * count, legs[i].amount, legs[i].to_fresh, 0, 0};
      bool seen = false;
      for (std::size_t t = 0; t < n_cols; ++t) seen |= col_asset[t] == a;
      if (!seen) {
        col_asset[n_cols] = a;
        fc[n_cols++] = FusedColumn{fl[i].column, L.holders_[a].data(), 0, 0};
      }
    }
#if defined(SL_HAVE_AVX2_LANES)
    if (simd_double_lanes() == 4)
      fused = fused_block_pass_avx2(fl, n_legs, fc, n_cols, block_first_, count);
    else
#endif
      fused = fused_block_pass_sse2(fl, n_legs, fc, n_cols, block_first_, count);
  }
  if (!fused) {  // move_column's checks and errors, leg by leg
    for (std::size_t i = 0; i < n_legs; ++i) move_column(legs[i].slot, block_first_, count, legs[i].amount, legs[i].to_fresh);
    return;
  }
  for (std::size_t i = 0; i < n_legs; ++i) {
    hubs_[legs[i].slot].delta += fl[i].delta;
    legs_ += fl[i].legs;
  }
  for (std::size_t t = 0; t < n_cols; ++t) {
    L.positive_[col_asset[t]] += fc[t].positive;
    block_totals_[col_asset[t]] = fc[t].total;
  }
  block_fresh_ = false;
  block_totals_known_ = true;
  ++blocks_fused_;
}

void Ledger::BulkOpening::outside_block() { throw LedgerError("ledger: a leg to an account of the deferred range outside its open block"); }

void Ledger::BulkOpening::refuse(std::size_t slot, AccountId fresh, Micros amount) const {
  if (amount < 0) throw LedgerError("ledger: negative transfer amount");
  if (fresh >= ledger_.names_.size()) throw LedgerError("ledger: transfer names an unknown account or asset");
  throw LedgerError("ledger: bulk opening moves between hub " + ledger_.account_name(hubs_[slot].hub) + " and itself");
}

void Ledger::BulkOpening::overflow(AssetId asset, Micros amount) const {
  throw std::overflow_error("ledger: balance overflow moving " + std::to_string(amount) + " " + ledger_.asset_names_[asset]);
}

void Ledger::BulkOpening::insufficient(AccountId fresh, AssetId asset, Micros amount, Micros balance) const {
  std::ostringstream os;
  os << "ledger: " << ledger_.account_name(fresh) << " cannot pay " << amount << " micro-" << ledger_.asset_names_[asset] << " (balance "
     << balance << ")";
  throw InsufficientFunds(os.str());
}

#if defined(SL_HAVE_AVX2_LANES)
namespace {

// A column's sums: the asset's positive total's change, the hub's, the legs moving something, and
// whether a balance went below zero.
struct ColumnSums {
  Micros positive = 0, delta = 0;
  std::uint64_t legs = 0;
  bool below_zero = false;
};

// move_column's loop four legs at a time, for a column in which nothing can overflow: every amount
// in [0, 2^50) and every balance before it in (-2^50, 2^50), at most 4,096 legs, so that each new
// balance is below 2^51 in magnitude and each sum below 2^63 (4,096 x 2^51). False, with nothing
// written, for any other column. The legs as the scalar loop books them: +a or -a by mask, the
// positive total's change max(nb, 0) - max(b, 0), the holder bits of four accounts at once (the
// first legs one at a time up to an account number that is a multiple of 4, so a group's bits never
// straddle a word), each word written when its last account in the column is.
SL_AVX2 bool move_column_avx2(Micros* balance, std::size_t stride, std::uint64_t* holder_words, std::size_t first, std::size_t count,
                              const Micros* amount, const bool* to_fresh, ColumnSums& sums) {
  constexpr std::uint64_t kBound = std::uint64_t{1} << 50;
  if (count > 4096) return false;
  std::uint64_t out_of_range = 0;
  for (std::size_t k = 0; k < count; ++k) {
    out_of_range |= static_cast<std::uint64_t>(static_cast<std::uint64_t>(amount[k]) >= kBound);  // a negative amount too
    out_of_range |= static_cast<std::uint64_t>(static_cast<std::uint64_t>(balance[k * stride]) + kBound >= 2 * kBound);
  }
  if (out_of_range != 0) return false;
  Micros positive = 0, delta = 0;
  std::uint64_t legs = 0, held = 0;
  bool below_zero = false;
  // Leg k's account's word, if k is its last account here (as the scalar loop).
  const auto flush = [&](std::size_t k) { flush_holder_word(held, holder_words, first, count, k); };
  const auto one_leg = [&](std::size_t k) {
    const Micros a = amount[k];
    const Micros s = to_fresh == nullptr || to_fresh[k] ? a : -a;
    Micros& b = balance[k * stride];
    const Micros nb = b + s;
    positive += (nb > 0 ? nb : 0) - (b > 0 ? b : 0);
    delta -= s;
    below_zero |= nb < 0;
    legs += a != 0;
    b = nb;
    held |= static_cast<std::uint64_t>(nb != 0) << ((first + k) % 64);
    flush(k);
  };
  std::size_t k = 0;
  for (; k < count && (first + k) % 4 != 0; ++k) one_leg(k);
  const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi64x(1);
  __m256i positive4 = zero, delta4 = zero, legs4 = zero, below4 = zero;
  for (; k + 4 <= count; k += 4) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(amount + k));
    __m256i back = zero;  // all ones where the leg goes from the account to the hub
    if (to_fresh != nullptr) {
      std::uint32_t bytes;
      std::memcpy(&bytes, to_fresh + k, sizeof bytes);  // four bools, each 0 or 1
      back = _mm256_cmpeq_epi64(_mm256_cvtepu8_epi64(_mm_cvtsi32_si128(static_cast<int>(bytes))), zero);
    }
    const __m256i s = _mm256_sub_epi64(_mm256_xor_si256(a, back), back);  // +a or -a
    Micros* const p = balance + k * stride;
    const __m256i b = _mm256_set_epi64x(p[3 * stride], p[2 * stride], p[stride], p[0]);
    const __m256i nb = _mm256_add_epi64(b, s);
    p[0] = _mm256_extract_epi64(nb, 0);
    p[stride] = _mm256_extract_epi64(nb, 1);
    p[2 * stride] = _mm256_extract_epi64(nb, 2);
    p[3 * stride] = _mm256_extract_epi64(nb, 3);
    const __m256i nb_pos = _mm256_and_si256(nb, _mm256_cmpgt_epi64(nb, zero)), b_pos = _mm256_and_si256(b, _mm256_cmpgt_epi64(b, zero));
    positive4 = _mm256_add_epi64(positive4, _mm256_sub_epi64(nb_pos, b_pos));
    delta4 = _mm256_sub_epi64(delta4, s);
    legs4 = _mm256_add_epi64(legs4, _mm256_add_epi64(one, _mm256_cmpeq_epi64(a, zero)));  // 1 unless the amount is 0
    below4 = _mm256_or_si256(below4, _mm256_cmpgt_epi64(zero, nb));
    const int zero_bits = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpeq_epi64(nb, zero)));
    held |= static_cast<std::uint64_t>(~zero_bits & 0xF) << ((first + k) % 64);
    flush(k + 3);
  }
  for (; k < count; ++k) one_leg(k);
  alignas(32) std::int64_t lane[4][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane[0]), positive4);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane[1]), delta4);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane[2]), legs4);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lane[3]), below4);
  for (int i = 0; i < 4; ++i) {
    positive += lane[0][i];
    delta += lane[1][i];
    legs += static_cast<std::uint64_t>(lane[2][i]);
    below_zero |= lane[3][i] != 0;
  }
  sums = ColumnSums{positive, delta, legs, below_zero};
  return true;
}

}  // namespace
#endif

void Ledger::BulkOpening::move_column(std::size_t slot, AccountId first, std::size_t count, const Micros* amount,
                                      const bool* to_fresh) {
  Ledger& L = ledger_;
  HubSum& h = hubs_.at(slot);
  if (count == 0) return;
  if (static_cast<std::size_t>(first) + count > L.names_.size()) throw LedgerError("ledger: transfer names an unknown account or asset");
  if (h.hub >= first && h.hub - first < count && amount[h.hub - first] != 0) refuse(slot, h.hub, amount[h.hub - first]);
  std::size_t stride;
  Micros* const balance = row_of(first, count, h.asset, stride);
  std::uint64_t* const holder_words = L.holders_[h.asset].data();
  // The loop keeps few values live (every one in a register: a sum spilled to the stack is a chain
  // of dependent memory updates from one leg to the next) and has no branch on the data (a leg's
  // direction, a position's side, and its amount, zero for a position without spot, are as random
  // as the draws; a branch on them is mispredicted about half the time). So: the signed amount is
  // +a or -a by mask; a zero amount changes nothing; the column's sums are int64 while they fit
  // (else redone in 128 bits below); the holder bits of the block are gathered in a register and
  // written a word at a time; the rare faults (a negative amount or an overflow, a balance below
  // zero) are only noted, and looked up after the loop.
  Micros positive = 0, delta = 0;
  std::uint64_t legs = 0, held = 0;
  // slow: a negative amount, an overflow of a balance or of the int64 sums (one flag: fewer values
  // live in the loop); below_zero: a balance below zero, allowed or not.
  bool slow = false, below_zero = false;
  bool on_lanes = false;
#if defined(SL_HAVE_AVX2_LANES)
  if (simd_double_lanes() == 4) {
    ColumnSums sums;
    on_lanes = move_column_avx2(balance, stride, holder_words, first, count, amount, to_fresh, sums);
    if (on_lanes) {
      positive = sums.positive, delta = sums.delta, legs = sums.legs, below_zero = sums.below_zero;
      ++columns_on_lanes_;
    }
  }
#endif
  for (std::size_t k = 0; k < count && !on_lanes; ++k) {
    const Micros a = amount[k];
    const std::uint64_t out_mask = -static_cast<std::uint64_t>(!(to_fresh == nullptr || to_fresh[k]));  // 0: to the account, all ones: back
    const auto s = static_cast<Micros>((static_cast<std::uint64_t>(a) ^ out_mask) - out_mask);             // +a or -a (two's complement)
    Micros& b = balance[k * stride];
    Micros nb;
    slow |= __builtin_add_overflow(b, s, &nb) | (a < 0) |
            __builtin_add_overflow(positive, (nb > 0 ? nb : 0) - (b > 0 ? b : 0), &positive) | __builtin_sub_overflow(delta, s, &delta);
    below_zero |= nb < 0;
    b = nb;
    legs += a != 0;
    const std::size_t bit = (static_cast<std::size_t>(first) + k) % 64;
    held |= static_cast<std::uint64_t>(nb != 0) << bit;
    if (bit == 63 || k + 1 == count) {  // the word's accounts in this column: bits lo..bit
      const std::size_t acc = static_cast<std::size_t>(first) + k, lo = acc - std::min<std::size_t>(k, bit);
      const std::uint64_t mask = (bit == 63 ? ~std::uint64_t{0} : (std::uint64_t{2} << bit) - 1) & ~((std::uint64_t{1} << (lo % 64)) - 1);
      std::uint64_t& w = holder_words[acc / 64];
      w = (w & ~mask) | held;
      held = 0;
    }
  }
  // The amount moved to leg k's account (+a or -a) and its balance before it (exact: the sum wraps
  // back, two's complement).
  const auto signed_amount = [&](std::size_t k) { return to_fresh == nullptr || to_fresh[k] ? amount[k] : -amount[k]; };
  const auto before = [&](std::size_t k) {
    return static_cast<Micros>(static_cast<std::uint64_t>(balance[k * stride]) - static_cast<std::uint64_t>(signed_amount(k)));
  };
  if (slow)  // the first refused or overflowing leg, in the column's order, raised as move() raises it
    for (std::size_t k = 0; k < count; ++k) {
      const Micros a = amount[k];
      if (a < 0) refuse(slot, first + static_cast<AccountId>(k), a);
      Micros nb;
      if (__builtin_add_overflow(before(k), signed_amount(k), &nb)) overflow(h.asset, a);
    }
  if (below_zero && !L.asset_negative_[h.asset])  // may each account below zero be there (every rule of may_go_negative)?
    for (std::size_t k = 0; k < count; ++k) {
      const AccountId fresh = first + static_cast<AccountId>(k);
      if ((balance[k * stride] < 0) & !L.may_go_negative(fresh, h.asset)) insufficient(fresh, h.asset, amount[k], before(k));
    }
  if (slow) {  // no leg was refused and no balance overflowed: the sums did, and are done again in 128 bits
    Int128 p = 0, d = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const Micros nb = balance[k * stride], b = before(k);
      p += static_cast<Int128>(nb > 0 ? nb : 0) - static_cast<Int128>(b > 0 ? b : 0);
      d -= signed_amount(k);
    }
    L.positive_[h.asset] += p;
    h.delta += d;
  } else {
    L.positive_[h.asset] += positive;
    h.delta += delta;
  }
  legs_ += legs;
}

void Ledger::BulkOpening::finish() {
  Ledger& L = ledger_;
  for (const HubSum& s : hubs_) {
    L.ensure_row(s.hub);
    Micros& b = L.balances_[L.index(s.hub, s.asset)];
    const __int128 nb = static_cast<__int128>(b) + s.delta;
    if (nb > std::numeric_limits<Micros>::max() || nb < std::numeric_limits<Micros>::min())
      throw std::overflow_error("ledger: bulk opening moves the balance of " + L.account_name(s.hub) + " out of range");
    L.positive_[s.asset] += (nb > 0 ? nb : 0) - static_cast<Int128>(b > 0 ? b : 0);
    b = static_cast<Micros>(nb);
    L.set_holder(s.asset, s.hub, b != 0);
  }
  L.transfer_count_ += legs_;
  hubs_.clear();
  legs_ = 0;
}

__int128 Ledger::total(AssetId asset) const {
  if (deferred_count_ != 0) return totals().at(asset);
  __int128 sum = 0;
  for (std::size_t acc = 0; acc < names_.size(); ++acc) sum += balances_[index(static_cast<AccountId>(acc), asset)];
  return sum;
}

void Ledger::write_deferred_row(std::size_t k) const {
  Micros* const row = balances_.data() + (deferred_first_ + k) * asset_names_.size();  // zero: never written
  fill_(k, row);
  for (std::size_t a = 0; a < asset_names_.size(); ++a) pending_[a] -= row[a];
  row_written_[k / 64] |= std::uint64_t{1} << (k % 64);
}

std::size_t Ledger::deferred_rows_pending() const {
  std::size_t written = 0;
  for (std::size_t w = 0; w < (deferred_count_ + 63) / 64; ++w) written += static_cast<std::size_t>(__builtin_popcountll(row_written_[w]));
  return deferred_count_ - written;
}

void Ledger::check_deferred_rows() const {
  if (deferred_count_ == 0) return;
  const std::size_t n_cols = asset_names_.size();
  std::vector<Int128> sums(n_cols, 0);
  std::vector<Micros> row(n_cols);
  for (std::size_t k = 0; k < deferred_count_; ++k) {
    if ((row_written_[k / 64] >> (k % 64)) & 1) continue;
    std::fill(row.begin(), row.end(), 0);
    fill_(k, row.data());
    for (std::size_t a = 0; a < n_cols; ++a) sums[a] += row[a];
  }
  for (std::size_t a = 0; a < n_cols; ++a)
    if (sums[a] != pending_[a]) {
      std::ostringstream os;
      os << "conservation violated: the deferred rows' " << asset_names_[a] << " sums to " << static_cast<long long>(sums[a])
         << " micro-units, their opening booked " << static_cast<long long>(pending_[a]);
      throw ConservationError(os.str());
    }
}

std::vector<__int128> column_sums(const Micros* rows, std::size_t n_rows, std::size_t n_cols) {
  // Each value b is taken as u = b + 2^63 (its bits with the top one flipped: u in [0, 2^64)) split
  // into hi = u >> 32 and lo = u mod 2^32: with fewer than 2^32 rows the sums of either stay below
  // 2^64, so they are plain 64-bit adds, four rows side by side (a loop the compiler vectorises;
  // 128-bit sums one value at a time took 5 ms at a million accounts), and
  // sum of b = 2^32 x sum of hi + sum of lo - count x 2^63.
  std::vector<__int128> sums(n_cols, 0);
  if (n_cols == 0) return sums;
  if (n_rows >= (std::size_t{1} << 32)) throw std::length_error("column_sums: 2^32 rows or more");
  constexpr std::size_t kGroup = 4;
  const std::size_t width = n_cols * kGroup, grouped = n_rows / kGroup * kGroup;
  std::vector<std::uint64_t> hi_sums(width, 0), lo_sums(width, 0);
  std::uint64_t* __restrict hi = hi_sums.data();
  std::uint64_t* __restrict lo = lo_sums.data();
  const std::uint64_t* __restrict b = reinterpret_cast<const std::uint64_t*>(rows);
  for (std::size_t i = 0; i < grouped * n_cols; i += width)
    for (std::size_t t = 0; t < width; ++t) {
      const std::uint64_t u = b[i + t] ^ (std::uint64_t{1} << 63);
      hi[t] += u >> 32;
      lo[t] += u & 0xFFFFFFFFu;
    }
  for (std::size_t t = 0; t < width; ++t) sums[t % n_cols] += (static_cast<__int128>(hi[t]) << 32) + static_cast<__int128>(lo[t]);
  for (std::size_t c = 0; c < n_cols; ++c) {
    sums[c] -= static_cast<__int128>(grouped) << 63;
    for (std::size_t r = grouped; r < n_rows; ++r) sums[c] += rows[r * n_cols + c];
  }
  return sums;
}

std::vector<Ledger::Int128> Ledger::totals() const {
  const std::size_t n = names_.size(), n_cols = asset_names_.size();
  if (deferred_count_ == 0) return column_sums(balances_.data(), n, n_cols);
  // The rows outside the deferred range, the range's written rows, and the sums of its others
  // (their rows read zero: not read, so their pages stay untouched).
  const std::size_t end = deferred_first_ + deferred_count_;
  std::vector<Int128> sums = column_sums(balances_.data(), deferred_first_, n_cols);
  const std::vector<Int128> tail = column_sums(balances_.data() + end * n_cols, n - end, n_cols);
  for (std::size_t a = 0; a < n_cols; ++a) sums[a] += tail[a] + pending_[a];
  for (std::size_t w = 0; w < (deferred_count_ + 63) / 64; ++w)
    for (std::uint64_t b = row_written_[w]; b != 0; b &= b - 1) {
      const Micros* row = balances_.data() + (deferred_first_ + w * 64 + static_cast<std::size_t>(__builtin_ctzll(b))) * n_cols;
      for (std::size_t a = 0; a < n_cols; ++a) sums[a] += row[a];
    }
  return sums;
}

void Ledger::check_conservation() const {
  const std::vector<Int128> sums = totals();
  for (AssetId a = 0; a < sums.size(); ++a) {
    const __int128 t = sums[a];
    if (t != 0) {
      std::ostringstream os;
      os << "conservation violated: asset " << asset_names_[a] << " sums to "
         << static_cast<long long>(t) << " micro-units over all accounts (must be exactly 0)";
      throw ConservationError(os.str());
    }
  }
}

}  // namespace sl
