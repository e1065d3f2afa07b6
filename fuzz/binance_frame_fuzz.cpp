// Fuzzes the Binance parser: the input as a market-stream frame (spot and USDⓈ-M) and as a
// klines REST body.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "venue/binance/binance_kline_parser.hpp"

using namespace twinstar;
using namespace twinstar::venue;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static binance::BinanceKlineParser spot(Market::spot);
  static binance::BinanceKlineParser usdm(Market::linear);
  static KlineFrame frame;
  static std::vector<Candle> page;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto* parser : {&spot, &usdm}) {
    const ParseStats before = parser->stats();
    const auto s = parser->parse_frame(text, frame);
    fuzz::check_frame(s, frame, before, parser->stats());
  }
  const ParseStats before = spot.stats();
  const auto s = spot.parse_rest(text, from_epoch_ms(1'700'000'000'000), page);
  fuzz::check_page(s, page, before, spot.stats());
  return 0;
}
