// Unwinding inventory taken over in liquidations (liquidator bots, the backstop provider, the
// socialized insurance fund): per venue per step one market order for at most the size resting at
// the best two levels of the side it hits, so an unwinder never dumps everything into an empty
// book; dust below one lot is kept. Returns true while anything of at least one lot is left.
#pragma once
#include <algorithm>
#include <cstdlib>

#include "sim/market/market.hpp"

namespace sl {

inline bool unwind_inventory_step(Market& m, AccountId account) {
  bool left = false;
  for (AssetMarket& am : m.assets) {
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
      Venue& v = am.venue(k);
      const AssetId asset = k == VenueKind::Spot ? am.spot_asset : am.perp_asset;
      const Micros held = m.ledger.balance(account, asset);
      if (held == 0) continue;
      const Side side = held > 0 ? Side::Sell : Side::Buy;
      Lots visible = 0;
      v.book().for_each_level(opposite(side), 2, [&](Tick, Lots q) {
        visible += q;
        return true;
      });
      const Lots lots = std::min(std::abs(held) / v.spec().lot_micros, visible);
      if (lots > 0) v.market(account, side, lots);
      if (m.ledger.balance(account, asset) / v.spec().lot_micros != 0) left = true;
    }
  }
  return left;
}

}  // namespace sl
