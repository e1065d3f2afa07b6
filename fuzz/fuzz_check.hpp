#pragma once
// Invariants every fuzzer checks on a parser's output: an accepted kline frame has a series
// and candles in time order; a rejected one is counted and leaves the frame empty.

#include <cstdlib>

#include "venue/common/kline_frame.hpp"

namespace twinstar::venue::fuzz {

inline void require(bool ok) {
  if (!ok) std::abort();
}

inline void check_frame(const Status& status, const KlineFrame& frame, const ParseStats& before, const ParseStats& after) {
  require(after.frames == before.frames + 1);
  if (!status) {
    require(after.rejected == before.rejected + 1);
    require(frame.candles.empty());
    require(!status.error().message.empty());
    return;
  }
  require(after.rejected == before.rejected);
  if (frame.kind == FrameKind::kline) {
    require(frame.has_series);
    require(!frame.candles.empty());
    for (std::size_t i = 1; i < frame.candles.size(); ++i) {
      require(frame.candles[i - 1].open_time <= frame.candles[i].open_time);
    }
  } else {
    require(frame.candles.empty());
  }
}

inline void check_page(const Status& status, const std::vector<Candle>& candles, const ParseStats& before,
                       const ParseStats& after) {
  require(after.frames == before.frames + 1);
  require(status ? after.rejected == before.rejected : after.rejected == before.rejected + 1);
  if (!status) require(candles.empty());
  for (std::size_t i = 1; i < candles.size(); ++i) require(candles[i - 1].open_time <= candles[i].open_time);
}

}  // namespace twinstar::venue::fuzz
