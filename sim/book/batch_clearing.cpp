#include "sim/book/batch_clearing.hpp"

#include <algorithm>
#include <numeric>

namespace sl {

std::vector<Lots> allocate_largest_remainder(Lots total, const std::vector<Lots>& weights) {
  std::vector<Lots> out(weights.size(), 0);
  if (total <= 0 || weights.empty()) return out;
  using I = __int128;  // total x weight can exceed int64
  I sum = 0;
  for (Lots w : weights) sum += std::max<Lots>(0, w);
  if (sum == 0) return out;
  std::vector<I> rem(weights.size(), 0);
  Lots given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const I num = static_cast<I>(total) * std::max<Lots>(0, weights[i]);
    out[i] = static_cast<Lots>(num / sum);
    rem[i] = num % sum;
    given += out[i];
  }
  std::vector<std::size_t> order(weights.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rem[a] > rem[b]; });
  for (std::size_t k = 0; given < total && k < order.size(); ++k) {
    if (weights[order[k]] <= 0) continue;
    ++out[order[k]];
    ++given;
  }
  return out;
}

namespace {

// `better(a, b)`: price a ranks ahead of price b.
template <class Better>
ClearingResult clear(Lots quantity, const std::vector<SealedBid>& bids, Better better) {
  ClearingResult r;
  r.bid_fills.assign(bids.size(), 0);
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < bids.size(); ++i)
    if (bids[i].qty > 0 && bids[i].price > 0) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return better(bids[a].price, bids[b].price); });
  Lots left = std::max<Lots>(0, quantity);
  std::size_t k = 0;
  while (left > 0 && k < order.size()) {
    // One price level: bids [k, e) share a price.
    std::size_t e = k;
    Lots level = 0;
    while (e < order.size() && bids[order[e]].price == bids[order[k]].price) level += bids[order[e++]].qty;
    if (level <= left) {
      for (std::size_t j = k; j < e; ++j) r.bid_fills[order[j]] = bids[order[j]].qty;
      left -= level;
    } else {  // the marginal level: pro rata, in input order among the tied bids
      std::vector<std::size_t> tied(order.begin() + static_cast<std::ptrdiff_t>(k), order.begin() + static_cast<std::ptrdiff_t>(e));
      std::sort(tied.begin(), tied.end());
      std::vector<Lots> w;
      for (std::size_t i : tied) w.push_back(bids[i].qty);
      const std::vector<Lots> a = allocate_largest_remainder(left, w);
      for (std::size_t j = 0; j < tied.size(); ++j) r.bid_fills[tied[j]] = a[j];
      left = 0;
    }
    r.price = bids[order[k]].price;
    k = e;
  }
  r.filled = std::max<Lots>(0, quantity) - left;
  r.remainder = left;
  if (r.filled == 0) r.price = 0;
  for (std::size_t i = 0; i < bids.size(); ++i) {
    if (r.bid_fills[i] == 0) continue;
    auto it = std::find_if(r.fills.begin(), r.fills.end(), [&](const BidderFill& f) { return f.bidder == bids[i].bidder; });
    if (it == r.fills.end())
      r.fills.push_back({bids[i].bidder, r.bid_fills[i]});
    else
      it->qty += r.bid_fills[i];
  }
  return r;
}

}  // namespace

ClearingResult clear_sell(Lots offered, const std::vector<SealedBid>& bids) {
  return clear(offered, bids, [](Tick a, Tick b) { return a > b; });
}

ClearingResult clear_buy(Lots wanted, const std::vector<SealedBid>& offers) {
  return clear(wanted, offers, [](Tick a, Tick b) { return a < b; });
}

}  // namespace sl
