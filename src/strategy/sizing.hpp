#pragma once
// Position sizing: how much to buy for a signal, in exact money and quantity.

#include <optional>

#include "core/decimal.hpp"
#include "core/error.hpp"

namespace twinstar {

enum class SizingMode {
  fixed_quote,        // spend a fixed quote amount per entry
  percent_available,  // a fraction of the capital the ledger says is available
  risk,               // lose at most risk_fraction × equity if the stop-loss is hit
};

struct SizingRule {
  SizingMode mode = SizingMode::fixed_quote;
  Money fixed_amount = Money::from_units(100);
  Ratio fraction = Ratio::from_raw(10'000'000);       // 0.1 of available capital
  Ratio risk_fraction = Ratio::from_raw(1'000'000);   // 0.01 of equity at risk per trade
  Quantity lot_size = Quantity::from_raw(1);          // quantity step the venue accepts
  Money min_notional = Money::zero();
};

struct SizingInput {
  Price entry;
  std::optional<Price> stop_loss;  // required for SizingMode::risk
  Money available;                 // from the capital ledger
  Money equity;
};

struct Sizing {
  Quantity quantity;
  Money notional;  // quantity × entry: what to reserve in the ledger
};

// Rounds down to the lot size; never more than `available`. Errors: below the minimum notional,
// a zero lot, a risk sizing without a stop or with the stop on the wrong side of the entry.
Result<Sizing> size_position(const SizingRule& rule, const SizingInput& in);

}  // namespace twinstar
