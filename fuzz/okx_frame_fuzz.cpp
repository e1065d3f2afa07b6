// Fuzzes the OKX parser: the input as a business-channel frame (strict and UTC+8-lenient) and
// as a candles REST body for spot and swaps.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "venue/okx/okx_kline_parser.hpp"

using namespace twinstar;
using namespace twinstar::venue;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static okx::OkxKlineParser strict;
  static okx::OkxKlineParser lenient(okx::OkxParseOptions{.accept_utc8_aligned = true});
  static KlineFrame frame;
  static std::vector<Candle> page;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto* parser : {&strict, &lenient}) {
    const ParseStats before = parser->stats();
    const auto s = parser->parse_frame(text, frame);
    fuzz::check_frame(s, frame, before, parser->stats());
  }
  for (Market m : {Market::spot, Market::linear}) {
    const ParseStats before = strict.stats();
    const auto s = strict.parse_rest(text, m, page);
    fuzz::check_page(s, page, before, strict.stats());
  }
  return 0;
}
