// Fuzzes the Bitget parser and the candle closer: the input as a public-channel frame (each
// accepted kline frame goes through BitgetCandleCloser) and as a candles REST body.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "venue/bitget/bitget_kline_parser.hpp"

using namespace twinstar;
using namespace twinstar::venue;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bitget::BitgetKlineParser parser(bitget::BitgetParseOptions{.accept_utc8_aligned = true});
  static bitget::BitgetCandleCloser closer;
  static KlineFrame frame;
  static std::vector<Candle> page;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseStats before = parser.stats();
  const auto s = parser.parse_frame(text, frame);
  fuzz::check_frame(s, frame, before, parser.stats());
  if (s && frame.kind == FrameKind::kline) {
    const std::size_t n = frame.candles.size();
    closer.apply(frame);
    fuzz::require(frame.candles.size() == n || frame.candles.size() == n + 1);
    for (std::size_t i = 0; i + 1 < frame.candles.size(); ++i) fuzz::require(frame.candles[i].closed);
    for (std::size_t i = 1; i < frame.candles.size(); ++i) {
      fuzz::require(frame.candles[i - 1].open_time <= frame.candles[i].open_time);
    }
    // The closer's memory is one candle per series; forget keeps it bounded across a run.
    if (closer.tracked_series() > 64) closer.forget(frame.series);
  }
  for (Market m : {Market::spot, Market::linear}) {
    before = parser.stats();
    const auto r = parser.parse_rest(text, m, Interval::m1, from_epoch_ms(1'700'000'000'000), page);
    fuzz::check_page(r, page, before, parser.stats());
  }
  return 0;
}
