#include "backtest/report_html.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace twinstar {

namespace {

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

struct Frame {
  double x0, x1, y0, y1;  // data ranges
  double width = 1100, height = 260, pad = 50;
  double x(double v) const { return pad + (x1 > x0 ? (v - x0) / (x1 - x0) : 0.5) * (width - 2 * pad); }
  double y(double v) const { return height - pad + (y1 > y0 ? -(v - y0) / (y1 - y0) : -0.5) * (height - 2 * pad); }
};

double ms(TimestampMs t) { return static_cast<double>(to_epoch_ms(t)); }
double ms(Timestamp t) { return static_cast<double>(to_epoch_ms(t)); }

// At most ~2 points per pixel: min and max of each bucket, so spikes survive downsampling.
std::vector<std::pair<double, double>> downsample(const std::vector<std::pair<double, double>>& pts, std::size_t buckets) {
  if (pts.size() <= buckets * 2) return pts;
  std::vector<std::pair<double, double>> out;
  const std::size_t per = (pts.size() + buckets - 1) / buckets;
  for (std::size_t i = 0; i < pts.size(); i += per) {
    const auto end = std::min(pts.size(), i + per);
    auto [lo, hi] = std::minmax_element(pts.begin() + static_cast<long>(i), pts.begin() + static_cast<long>(end),
                                        [](auto& a, auto& b) { return a.second < b.second; });
    if (lo->first <= hi->first) {
      out.push_back(*lo);
      if (hi != lo) out.push_back(*hi);
    } else {
      out.push_back(*hi);
      out.push_back(*lo);
    }
  }
  return out;
}

std::string polyline(const Frame& f, const std::vector<std::pair<double, double>>& pts, std::string_view style) {
  std::string s = fmt::format("<polyline fill=\"none\" style=\"{}\" points=\"", style);
  for (const auto& [x, y] : pts) s += fmt::format("{:.1f},{:.1f} ", f.x(x), f.y(y));
  s += "\"/>\n";
  return s;
}

std::string axes(const Frame& f, std::string_view y_label, bool percent) {
  std::string s;
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n", f.pad, f.pad,
                   f.width - 2 * f.pad, f.height - 2 * f.pad);
  for (int i = 0; i <= 4; ++i) {
    const double v = f.y0 + (f.y1 - f.y0) * i / 4.0;
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"end\">{}</text>\n", f.pad - 4, f.y(v) + 3,
                     percent ? fmt::format("{:.1f}%", v) : fmt::format("{:.6g}", v));
  }
  for (int i = 0; i <= 4; ++i) {
    const double t = f.x0 + (f.x1 - f.x0) * i / 4.0;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>\n", f.x(t), f.height - f.pad + 14,
                     format_utc_date(Timestamp(std::chrono::milliseconds(static_cast<std::int64_t>(t)))));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>\n", f.pad, f.pad - 8, escape(y_label));
  return s;
}

std::string svg_open(const Frame& f) {
  return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n", f.width, f.height,
                     f.width, f.height);
}

std::string num(double v, int precision = 2) {
  if (std::isnan(v)) return "n/a";
  return fmt::format("{:.{}f}", v, precision);
}

std::string dur(Duration d) {
  const auto h = std::chrono::duration_cast<std::chrono::hours>(d).count();
  return fmt::format("{}d {}h", h / 24, h % 24);
}

}  // namespace

std::string render_html_report(const BacktestResult& r, const std::vector<SeriesData>& data, const std::string& title) {
  const Metrics& m = r.metrics;
  std::string html = fmt::format(R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{0}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; font-size: 13px; }}
td, th {{ border-bottom: 1px solid #eee; padding: 3px 10px; text-align: right; }}
th {{ background: #f4f4f4; }} td:first-child, th:first-child {{ text-align: left; }}
.metrics {{ columns: 3; }} .win {{ color: #11803a; }} .loss {{ color: #b3261e; }}
p.note {{ color: #555; font-size: 13px; }}
</style></head><body>
<h1>{0}</h1>
<p class="note">{1} series, {2} candles. Fill model: {3}.</p>
)",
                                 escape(title), r.series, r.candles, escape(r.fill_model));

  // Metrics.
  const std::pair<std::string, std::string> rows[] = {
      {"Start", format_iso8601(m.start)},
      {"End", format_iso8601(m.end)},
      {"Duration", dur(m.duration)},
      {"Exposure time [%]", num(m.exposure_time_pct)},
      {"Equity final", m.equity_final.to_string(2)},
      {"Equity peak", m.equity_peak.to_string(2)},
      {"Return [%]", num(m.return_pct)},
      {"Buy & hold return [%]", num(m.buy_and_hold_return_pct)},
      {"Return (ann.) [%]", num(m.return_ann_pct)},
      {"Volatility (ann.) [%]", num(m.volatility_ann_pct)},
      {"CAGR [%]", num(m.cagr_pct)},
      {"Sharpe ratio", num(m.sharpe)},
      {"Sortino ratio", num(m.sortino)},
      {"Calmar ratio", num(m.calmar)},
      {"Max. drawdown [%]", num(m.max_drawdown_pct)},
      {"Avg. drawdown [%]", num(m.avg_drawdown_pct)},
      {"Max. drawdown duration", dur(m.max_drawdown_duration)},
      {"Avg. drawdown duration", dur(m.avg_drawdown_duration)},
      {"# Trades", std::to_string(m.trades)},
      {"Win rate [%]", num(m.win_rate_pct)},
      {"Best trade [%]", num(m.best_trade_pct)},
      {"Worst trade [%]", num(m.worst_trade_pct)},
      {"Avg. trade [%]", num(m.avg_trade_pct)},
      {"Max. trade duration", dur(m.max_trade_duration)},
      {"Avg. trade duration", dur(m.avg_trade_duration)},
      {"Profit factor", num(m.profit_factor)},
      {"Expectancy [%]", num(m.expectancy_pct)},
      {"SQN", num(m.sqn)},
      {"Kelly criterion", num(m.kelly, 4)},
      {"Commissions", m.commissions.to_string(2)},
  };
  html += "<h2>Metrics</h2><div class=\"metrics\"><table>\n";
  for (const auto& [k, v] : rows) html += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", escape(k), escape(v));
  html += "</table></div>\n";

  // Equity and drawdown.
  if (!r.equity.empty()) {
    std::vector<std::pair<double, double>> eq, dd;
    double peak = r.equity.front().equity.to_double();
    for (const auto& p : r.equity) {
      const double e = p.equity.to_double();
      peak = std::max(peak, e);
      eq.emplace_back(ms(p.time), e);
      dd.emplace_back(ms(p.time), peak > 0 ? -(1 - e / peak) * 100 : 0);
    }
    eq = downsample(eq, 900);
    dd = downsample(dd, 900);
    auto [emin, emax] = std::minmax_element(eq.begin(), eq.end(), [](auto& a, auto& b) { return a.second < b.second; });
    Frame f{eq.front().first, eq.back().first, emin->second, emax->second};
    html += "<h2>Equity</h2>\n" + svg_open(f) + axes(f, "equity", false) + polyline(f, eq, "stroke:#1f5fbf;stroke-width:1.2") + "</svg>\n";
    double dmin = 0;
    for (auto& p : dd) dmin = std::min(dmin, p.second);
    Frame g{dd.front().first, dd.back().first, dmin, 0};
    g.height = 180;
    html += "<h2>Drawdown</h2>\n" + svg_open(g) + axes(g, "drawdown", true) + polyline(g, dd, "stroke:#b3261e;stroke-width:1") + "</svg>\n";
  }

  // Price charts with trades, one per traded series (at most 12).
  std::map<Symbol, std::vector<const TradeRecord*>> by_symbol;
  for (const auto& t : r.trades) by_symbol[t.symbol].push_back(&t);
  std::size_t charts = 0;
  for (const auto& s : data) {
    if (charts == 12) break;
    auto it = by_symbol.find(s.key.symbol);
    if (it == by_symbol.end() && charts > 0) continue;
    ++charts;
    std::vector<std::pair<double, double>> px;
    for (const auto& c : s.candles) px.emplace_back(ms(c.open_time), c.close.to_double());
    px = downsample(px, 900);
    auto [pmin, pmax] = std::minmax_element(px.begin(), px.end(), [](auto& a, auto& b) { return a.second < b.second; });
    Frame f{px.front().first, px.back().first, pmin->second, pmax->second};
    html += fmt::format("<h2>{} {} {}</h2>\n", escape(s.key.symbol.str()), s.key.interval, s.key.exchange);
    html += svg_open(f) + axes(f, "close", false) + polyline(f, px, "stroke:#555;stroke-width:0.8");
    if (it != by_symbol.end()) {
      for (const TradeRecord* t : it->second) {
        const double ex = f.x(ms(t->entry_time)), ey = f.y(t->entry_price.to_double());
        const double xx = f.x(ms(t->exit_time)), xy = f.y(t->exit_price.to_double());
        const bool buy = t->side == Side::buy;
        html += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-dasharray=\"2,2\"/>\n", ex,
                            ey, xx, xy, t->pnl.is_negative() ? "#b3261e" : "#11803a");
        html += fmt::format("<path d=\"M{:.1f},{:.1f} l-4,{} l8,0 z\" fill=\"{}\"><title>{} {} @ {}</title></path>\n", ex, ey,
                            buy ? 7 : -7, buy ? "#11803a" : "#b3261e", buy ? "buy" : "sell", t->quantity, t->entry_price);
        html += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"#222\"><title>exit ({}) @ {}: {}</title></circle>\n", xx,
                            xy, to_string(t->exit_purpose), t->exit_price, t->pnl);
      }
    }
    html += "</svg>\n";
  }

  // Trades.
  html += fmt::format("<h2>Trades ({})</h2><table>\n", r.trades.size());
  html += "<tr><th>#</th><th>bot</th><th>symbol</th><th>side</th><th>qty</th><th>entry time</th><th>entry</th>"
          "<th>exit time</th><th>exit</th><th>by</th><th>PnL</th><th>return [%]</th><th>fees</th></tr>\n";
  std::size_t n = 0;
  for (const auto& t : r.trades) {
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
        ++n, escape(t.bot), escape(t.symbol.str()), to_string(t.side), t.quantity, format_iso8601(t.entry_time), t.entry_price,
        format_iso8601(t.exit_time), t.exit_price, to_string(t.exit_purpose), t.pnl.is_negative() ? "loss" : "win",
        t.pnl.to_string(2), num(t.return_pct * 100), t.fees.to_string(4));
  }
  html += "</table>\n</body></html>\n";
  return html;
}

}  // namespace twinstar
