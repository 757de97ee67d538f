// The agent interface. Agents are plain classes stored by type in arrays (no virtual calls in the
// step loop); the kernel dispatches on AgentKind. Every agent type provides:
//
//   bool wants_to_act(std::int64_t step) const;   // cheap check, asked when the agent is woken
//   std::int64_t next_wake(std::int64_t step) const;  // the next step wants_to_act can be true
//                                                  // (not the liquidator bot and the backstop)
//   void act(Market& market);                      // submits/cancels orders through the venues
//
// Activation is event-driven (sim/run/activation.hpp): an agent is woken at the step its
// next_wake names (the liquidator bots and the backstop, handed work by the policies, every step),
// not polled every step; a woken agent acts only if wants_to_act(step) holds.
//
// Each agent owns its ledger account and its own random stream (derived from master seed, run and
// agent id), so its decisions do not depend on how many other agents exist or in which order they
// were created.
#pragma once
#include <cstdint>

namespace sl {

// Position: an account of the user's own positions file; HedgingDemand and Reentry (issue #14) and
// Counterparty (issue #12 item 3: an account of the counterparty population of the positions booked
// at step 0, sim/run/counterparties.hpp, owned by no acting agent) come last so the earlier kinds
// keep their numbers.
enum class AgentKind : std::uint8_t { MarketMaker, NoiseTrader, Ladder, Arbitrageur, BasisTrader, LeveragedTrader, Liquidator, Backstop, Position, HedgingDemand, Reentry, Counterparty };

inline const char* agent_kind_name(AgentKind k) {
  switch (k) {
    case AgentKind::MarketMaker: return "market_maker";
    case AgentKind::NoiseTrader: return "noise_trader";
    case AgentKind::Ladder: return "ladder";
    case AgentKind::Arbitrageur: return "arbitrageur";
    case AgentKind::BasisTrader: return "basis_trader";
    case AgentKind::LeveragedTrader: return "leveraged_trader";
    case AgentKind::Liquidator: return "liquidator";
    case AgentKind::Backstop: return "backstop_provider";
    case AgentKind::Position: return "position";
    case AgentKind::HedgingDemand: return "hedger";
    case AgentKind::Reentry: return "reentry";
    case AgentKind::Counterparty: return "counterparty";
  }
  return "unknown";
}

// Handle used by the kernel's activation list: kind + index into that kind's array.
struct AgentHandle {
  AgentKind kind;
  std::uint32_t index;
};

}  // namespace sl
