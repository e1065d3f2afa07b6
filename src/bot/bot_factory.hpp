#pragma once
// Builds bots from the [[bots]] section of the config: the same code for `twinstar run`,
// `twinstar demo` and `twinstar backtest`, so a backtest runs exactly the bots that trade live.

#include <memory>
#include <vector>

#include "bot/bots.hpp"
#include "config/config.hpp"

namespace twinstar {

// Errors name the bot and what is wrong: an unknown strategy, a parameter out of range.
Result<TraderOptions> trader_options(const BotConfig& bot);
Result<std::unique_ptr<Bot>> make_bot(const BotConfig& bot, CapitalLedger& ledger, OrderGateway& gateway, Clock& clock,
                                      SymbolClaims& claims);
// The ledger rules of the [capital] section.
LedgerOptions ledger_options(const CapitalConfig& capital);
// Checks every bot without building it (strategies and parameters, overlapping single bots).
Status validate_bots(const std::vector<BotConfig>& bots, const std::string& source);
// Checks the bots against the [capital] rules: a fixed-size entry (plus the reservation buffer)
// that a per-bot cap, a per-symbol cap or the allocation cap of the initial capital can never
// admit is an error before any order, not a refusal on every signal.
Status validate_bots_against_capital(const std::vector<BotConfig>& bots, const CapitalConfig& capital,
                                     const std::string& source);

}  // namespace twinstar
