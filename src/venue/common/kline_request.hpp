#pragma once
// REST kline requests and the pager that covers any time range with them, for every venue.
// Each request names its limiter bucket and weight so the caller can charge the shared rate
// limiter before sending it (this module does not depend on src/ratelimit).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/candle.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/time.hpp"

namespace twinstar::venue {

// What to fetch: candles of one series whose open time is in [from, to).
struct KlineQuery {
  SeriesKey series;
  TimestampMs from{};
  TimestampMs to{};
  // The present, injected: OKX and Bitget serve old candles from a separate history endpoint.
  TimestampMs now{};
  // Rows per request; 0 picks the venue's default page (see each venue's kline request header).
  int page_rows = 0;
};

// One GET request, ready for the HTTP client.
struct KlineRequest {
  std::string path;   // "/v5/market/kline"
  std::string query;  // "category=linear&symbol=BTCUSDT&interval=1&start=..&end=..&limit=1000"
  TimestampMs from{};  // first open time this request covers
  TimestampMs to{};    // open times before this
  int limit = 0;          // the `limit` parameter sent
  int expected_rows = 0;  // candles in [from, to) when the venue has them all
  // When the venue holds more rows than `limit` in the window, does it keep the newest?
  // (true for Bybit and OKX, which page backwards). Decides which end a short page misses.
  bool keeps_newest = false;
  int weight = 1;           // cost in the bucket's unit (Binance request weight; 1 elsewhere)
  std::string_view bucket;  // limiter bucket: "binance.spot.weight", "okx.market.history-candles", ...

  std::string target() const { return query.empty() ? path : path + "?" + query; }
};

// Open times in [from, to): the first is `from` rounded up to the interval's grid.
TimestampMs first_open_at_or_after(Interval interval, TimestampMs from) noexcept;
// Number of candles opening in [from, to) (0 when to <= from).
std::int64_t count_opens(Interval interval, TimestampMs from, TimestampMs to) noexcept;
// The open time `n` candles after `open` (open must be on the grid).
TimestampMs advance_opens(Interval interval, TimestampMs open, std::int64_t n) noexcept;

// Lazily yields the requests that cover a query's range, oldest window first, each window no
// larger than the venue allows (rows per request, and Bitget's 90-day span), each on the
// endpoint that serves its age. Memory is constant however long the range.
// Thread: one thread at a time.
class KlinePager {
 public:
  // Errors: invalid_argument when the venue has no such interval, the symbol cannot be spelled
  // for the venue, or page_rows is outside [1, venue maximum].
  static Result<KlinePager> create(const KlineQuery& query);

  // The next request; call while !done().
  // Errors: invalid_argument if called when done (or a venue builder refuses a window).
  Result<KlineRequest> next();
  // Requests that fetch what a short page left out of `sent`'s window (at most two: the older
  // and the newer side), given the candles that came back (any order; rows outside the window
  // are ignored). Empty when the page is complete or empty: an empty answer means the venue
  // has nothing there (before listing, or a venue gap), and asking again would loop.
  std::vector<KlineRequest> follow_ups(const KlineRequest& sent, std::span<const Candle> page) const;

  std::int64_t total_rows() const noexcept { return total_rows_; }
  bool done() const noexcept { return cursor_ >= end_; }

 private:
  explicit KlinePager(const KlineQuery& query) : query_(query) {}
  Result<KlineRequest> request_for(TimestampMs from, TimestampMs to) const;

  KlineQuery query_;
  TimestampMs cursor_{};
  TimestampMs end_{};
  std::int64_t total_rows_ = 0;
};

// Builds the request for candles opening in [from, to) (from on the interval grid), at most
// `rows` of them, on the endpoint that serves that age; dispatches to the venue's builder.
Result<KlineRequest> build_kline_request(const KlineQuery& query, TimestampMs from, TimestampMs to);

// How large a window starting at `from` may be for this venue and age.
struct PageShape {
  int max_rows = 0;      // the venue's limit maximum on this endpoint
  int default_rows = 0;  // rows per page when KlineQuery::page_rows is 0
  std::optional<Duration> max_span;  // Bitget: startTime..endTime at most 90 days
};
Result<PageShape> kline_page_shape(const KlineQuery& query, TimestampMs from);

}  // namespace twinstar::venue
