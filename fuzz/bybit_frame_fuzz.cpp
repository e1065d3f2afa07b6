// Fuzzes the Bybit parser: the input as a WebSocket frame (spot and linear) and as a REST body.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "venue/bybit/bybit_kline_parser.hpp"

using namespace twinstar;
using namespace twinstar::venue;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bybit::BybitKlineParser spot(Market::spot);
  static bybit::BybitKlineParser linear(Market::linear);
  static KlineFrame frame;
  static std::vector<Candle> page;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto* parser : {&spot, &linear}) {
    const ParseStats before = parser->stats();
    const auto s = parser->parse_frame(text, frame);
    fuzz::check_frame(s, frame, before, parser->stats());
  }
  const ParseStats before = linear.stats();
  const auto s = linear.parse_rest(text, Interval::m1, from_epoch_ms(1'700'000'000'000), page);
  fuzz::check_page(s, page, before, linear.stats());
  return 0;
}
