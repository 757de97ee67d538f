// The agent interface. Agents are plain classes stored by type in arrays (no virtual calls in the
// step loop); the kernel dispatches on AgentKind. Every agent type provides:
//
//   bool wants_to_act(std::int64_t step) const;   // cheap check, called every step
//   void act(Market& market);                      // submits/cancels orders through the venues
//
// Each agent owns its ledger account and its own random stream (derived from master seed, run and
// agent id), so its decisions do not depend on how many other agents exist or in which order they
// were created.
#pragma once
#include <cstdint>

namespace sl {

// Position: an account of the user's own positions file (accounts.file), owned by no agent.
enum class AgentKind : std::uint8_t { MarketMaker, NoiseTrader, Ladder, Arbitrageur, BasisTrader, LeveragedTrader, Liquidator, Backstop, Position };

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
  }
  return "unknown";
}

// Handle used by the kernel's activation list: kind + index into that kind's array.
struct AgentHandle {
  AgentKind kind;
  std::uint32_t index;
};

}  // namespace sl
