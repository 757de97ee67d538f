#include "agents/backstop_provider.hpp"

#include <algorithm>
#include <cstdlib>

namespace sl {

BackstopProvider::BackstopProvider(double capacity_quote, AccountId account)
    : capacity_(std::max(0.0, capacity_quote)), remaining_(capacity_), account_(account) {}

void BackstopProvider::took(double value) {
  const double v = std::max(0.0, value);
  remaining_ = std::max(0.0, remaining_ - v);
  taken_ += v;
  holds_inventory_ = true;
}

// Same slicing as LiquidatorBot::act: per venue per step one market order for at most the size
// resting at the best two levels of the side it hits; dust below one lot is kept.
void BackstopProvider::act(Market& m) {
  bool left = false;
  for (AssetMarket& am : m.assets) {
    for (VenueKind k : {VenueKind::Spot, VenueKind::Perp}) {
      Venue& v = am.venue(k);
      const AssetId asset = k == VenueKind::Spot ? am.spot_asset : am.perp_asset;
      const Micros held = m.ledger.balance(account_, asset);
      if (held == 0) continue;
      const Side side = held > 0 ? Side::Sell : Side::Buy;
      Lots visible = 0;
      v.book().for_each_level(opposite(side), 2, [&](Tick, Lots q) {
        visible += q;
        return true;
      });
      const Lots want = std::abs(held) / v.spec().lot_micros;
      const Lots lots = std::min(want, visible);
      if (lots > 0) v.market(account_, side, lots);
      if (m.ledger.balance(account_, asset) / v.spec().lot_micros != 0) left = true;
    }
  }
  holds_inventory_ = left;
}

}  // namespace sl
