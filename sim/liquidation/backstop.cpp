#include "sim/liquidation/backstop.hpp"

#include <cmath>

#include "agents/backstop_provider.hpp"

namespace sl {

BackstopLeg backstop_leg(std::size_t asset, bool spot, Micros units, double price, double discount_bps, double* gross) {
  const double d = discount_bps * 1e-4;
  const double v = from_micros(units) * price;
  BackstopLeg g;
  g.asset = asset;
  g.spot = spot;
  g.units = units;
  g.price = price;
  g.pay = to_fixed(v - d * std::abs(v), 1e6);
  if (gross) *gross += std::abs(v);
  return g;
}

bool backstop_settle(LiquidationContext& ctx, BackstopProvider& bp, AccountId account, const std::vector<BackstopLeg>& legs,
                     double gross) {
  Ledger& L = ctx.market.ledger;
  const AssetId q = ctx.market.quote_asset;
  if (legs.empty() || !bp.can_take(gross)) return false;
  Micros pay = 0;
  for (const BackstopLeg& g : legs) pay += g.pay;
  // Both sides must be able to settle: cash and any short spot leg (plain accounts cannot go negative).
  if (pay > 0 && !L.can_pay(bp.account(), q, pay)) return false;
  if (pay < 0 && !L.can_pay(account, q, -pay)) return false;
  for (const BackstopLeg& g : legs) {
    const AssetMarket& am = ctx.market.assets[g.asset];
    if (g.spot && g.units < 0 && !L.can_pay(bp.account(), am.spot_asset, -g.units)) return false;
  }
  for (const BackstopLeg& g : legs) {
    const AssetMarket& am = ctx.market.assets[g.asset];
    const AssetId a = g.spot ? am.spot_asset : am.perp_asset;
    if (g.units > 0) L.transfer(account, bp.account(), a, g.units);
    else L.transfer(bp.account(), account, a, -g.units);
    if (!g.spot) ctx.margin.record_transfer(account, bp.account(), g.asset, g.units, g.transfer_price(0.0));
  }
  if (pay > 0) L.transfer(bp.account(), account, q, pay);
  if (pay < 0) L.transfer(account, bp.account(), q, -pay);
  bp.took(gross);
  return true;
}

bool backstop_take(LiquidationContext& ctx, BackstopProvider& bp, const MarginAccount& acc, std::vector<BackstopLeg>& legs,
                   double gross, double discount_bps, double* discount_bps_out) {
  if (legs.empty()) return false;
  double E = ctx.margin.equity(acc, PriceBasis::Mark);
  for (const BackstopLeg& g : legs)
    if (g.spot) E += from_micros(g.units) * g.price * ctx.market.assets[g.asset].collateral_haircut;
  if (!(E > 0)) return false;
  double eff_bps = discount_bps;
  if (gross > 0 && discount_bps * 1e-4 * gross > E) {
    eff_bps = std::floor(E / gross * 1e4 * 1e6) / 1e6;  // rounded down: the account keeps the micro-units
    double g2 = 0.0;
    for (BackstopLeg& g : legs) g = backstop_leg(g.asset, g.spot, g.units, g.price, eff_bps, &g2);
  }
  if (!backstop_settle(ctx, bp, acc.account, legs, gross)) return false;
  if (discount_bps_out) *discount_bps_out = eff_bps;
  return true;
}

}  // namespace sl
