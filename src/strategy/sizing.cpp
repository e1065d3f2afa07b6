#include "strategy/sizing.hpp"

#include <algorithm>

namespace twinstar {

Result<Sizing> size_position(const SizingRule& rule, const SizingInput& in) {
  if (!in.entry.is_positive()) return make_error(ErrorCode::invalid_argument, "entry price must be positive, got {}", in.entry);
  if (!rule.lot_size.is_positive()) return make_error(ErrorCode::invalid_argument, "lot size must be positive");
  Money budget;
  Quantity quantity;
  switch (rule.mode) {
    case SizingMode::fixed_quote:
      budget = rule.fixed_amount;
      break;
    case SizingMode::percent_available:
      budget = apply_ratio(in.available, rule.fraction);
      break;
    case SizingMode::risk: {
      if (!in.stop_loss) return make_error(ErrorCode::invalid_argument, "risk sizing needs a stop-loss");
      const Price distance = in.entry > *in.stop_loss ? in.entry - *in.stop_loss : *in.stop_loss - in.entry;
      if (!distance.is_positive()) return make_error(ErrorCode::invalid_argument, "stop-loss equals the entry price");
      const Money at_risk = apply_ratio(in.equity, rule.risk_fraction);
      auto q = quantity_for(at_risk, distance);
      if (!q) return std::unexpected(q.error());
      quantity = *q;
      budget = notional(in.entry, quantity, Rounding::up);
      break;
    }
  }
  budget = std::min(budget, in.available);
  if (!budget.is_positive()) return make_error(ErrorCode::insufficient_capital, "no capital available to size a position");
  auto affordable = quantity_for(budget, in.entry);
  if (!affordable) return std::unexpected(affordable.error());
  if (rule.mode != SizingMode::risk || *affordable < quantity) quantity = *affordable;
  // Round down to the venue's lot size.
  quantity = Quantity::from_raw(quantity.raw() / rule.lot_size.raw() * rule.lot_size.raw());
  const Money value = notional(in.entry, quantity, Rounding::up);
  if (!quantity.is_positive() || value < rule.min_notional || !value.is_positive()) {
    return make_error(ErrorCode::insufficient_capital, "position of {} at {} is below the minimum notional {}", quantity,
                      in.entry, rule.min_notional);
  }
  return Sizing{quantity, value};
}

}  // namespace twinstar
