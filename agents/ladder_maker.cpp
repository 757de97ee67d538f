#include "agents/ladder_maker.hpp"

namespace sl {

LadderMaker::LadderMaker(const LadderConfig& cfg, AccountId account) : cfg_(cfg), account_(account) {
  live_.reserve(static_cast<std::size_t>(2 * cfg.levels));
}

bool LadderMaker::wants_to_act(std::int64_t step) const {
  if (!posted_) return true;
  if (cfg_.refill == "every_step") return true;
  if (cfg_.refill == "every_n_steps") return step % cfg_.refill_every_steps == 0;
  return false;
}

std::int64_t LadderMaker::next_wake(std::int64_t step) const {
  if (!posted_ || cfg_.refill == "every_step") return step + 1;
  if (cfg_.refill == "every_n_steps") return next_multiple_after(step, cfg_.refill_every_steps);
  return kNeverWakes;
}

void LadderMaker::act(Market& m) {
  AssetMarket& am = m.assets[static_cast<std::size_t>(cfg_.asset_index)];
  Venue& v = am.venue(cfg_.venue == "spot" ? VenueKind::Spot : VenueKind::Perp);
  for (OrderId id : live_) v.cancel(id);
  live_.clear();
  // "index": the oracle index, which every agent sees (the reference until the first observation);
  // "reference": the outside price itself, which no real maker sees (kept for hand-built worlds).
  const double center_px = cfg_.center == "reference" ? am.reference.price()
                           : cfg_.center == "index"   ? am.index_or_reference()
                                                      : am.initial_price;
  const Tick center = v.price_to_ticks(center_px);
  const Lots lots = v.qty_to_lots(cfg_.size_per_level);
  for (int i = 0; i < cfg_.levels; ++i) {
    const Tick off = cfg_.first_offset_ticks + static_cast<Tick>(i) * cfg_.tick_spacing;
    if (center - off >= 1) {
      const SubmitResult r = v.limit(account_, Side::Buy, center - off, lots);
      if (r.id) live_.push_back(r.id);
    }
    if (center + off <= v.spec().max_tick) {
      const SubmitResult r = v.limit(account_, Side::Sell, center + off, lots);
      if (r.id) live_.push_back(r.id);
    }
  }
  posted_ = true;
}

}  // namespace sl
