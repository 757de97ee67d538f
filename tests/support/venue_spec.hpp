// The instrument of a hand-built test venue, stated in units as a test's comment states it; the
// micro-unit fields follow as the loader derives them (scenarios/loader.cpp): tick_micros = tick x
// 1e6, lot_micros = lot x 1e6, and one lot at a price of one tick is worth tick_micros x lot_micros /
// 1e6 quote micro-units. Quote asset 0. Nothing here is a model number: each test names its own.
#pragma once
#include <string>
#include <utility>

#include "sim/book/venue.hpp"
#include "sim/core/fixed_point.hpp"

namespace sl::test {

struct Instrument {
  double tick_size = 1.0;  // quote units per tick
  double lot_size = 0.001;  // base units per lot
  double maker_fee_bps = 0.0;
  double taker_fee_bps = 0.0;
  Tick max_tick = 100'000;
};

inline VenueSpec venue_spec(VenueKind kind, std::string name, AssetId base_asset, const Instrument& in) {
  const Micros tick_micros = to_fixed(in.tick_size, 1e6), lot_micros = to_fixed(in.lot_size, 1e6);
  return VenueSpec{.kind = kind, .name = std::move(name), .base_asset = base_asset, .quote_asset = 0,
                   .lot_micros = lot_micros, .tick_micros = tick_micros,
                   .quote_micros_per_tick_lot = tick_micros * lot_micros / kMicrosPerUnit,
                   .tick_size = in.tick_size, .lot_size = in.lot_size, .maker_fee_bps = in.maker_fee_bps,
                   .taker_fee_bps = in.taker_fee_bps, .max_tick = in.max_tick};
}

}  // namespace sl::test
