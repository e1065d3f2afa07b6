#pragma once
// A self-contained HTML report (inline SVG, no scripts, no network): equity and drawdown
// curves, the price chart of each traded series with entries and exits marked, the metrics
// and the trade table.

#include <string>
#include <vector>

#include "backtest/engine.hpp"

namespace twinstar {

std::string render_html_report(const BacktestResult& result, const std::vector<SeriesData>& data, const std::string& title);

}  // namespace twinstar
