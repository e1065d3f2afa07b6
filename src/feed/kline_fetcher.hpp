#pragma once
// REST kline backfill over any time range, for every venue: pages from venue::KlinePager, each
// request charged to the shared rate limiter with its real bucket and weight before it is sent,
// the venue's usage headers and "too many requests" answers fed back to the limiter, short
// pages completed with follow-ups, transient failures (5xx, timeouts, resets) retried with
// exponential backoff on the injected clock.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "core/candle.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "feed/venue_codec.hpp"
#include "net/http_client.hpp"
#include "ratelimit/limiter.hpp"
#include "venue/common/kline_request.hpp"

namespace twinstar::feed {

struct FetchOptions {
  int max_attempts = 6;                                   // per request, rate-limit answers included
  Duration retry_base = std::chrono::milliseconds(250);   // doubled per attempt, capped at retry_max
  Duration retry_max = std::chrono::seconds(10);
  Duration acquire_timeout = std::chrono::minutes(2);     // longest wait for the limiter per request
  int page_rows = 0;                                      // 0: the venue's default page
  int max_follow_ups_per_page = 8;                        // bounds the work a misbehaving venue can cause
  net::HttpClientOptions http;
};

struct FetchStats {
  std::uint64_t requests = 0;      // HTTP requests sent
  std::uint64_t candles = 0;       // closed candles delivered
  std::uint64_t retries = 0;       // transient failures retried
  std::uint64_t rate_limited = 0;  // venue answers that said "too many requests"
  std::uint64_t follow_ups = 0;    // extra requests for short pages
  std::uint64_t weight = 0;        // limiter weight charged
};

// Receives closed candles of one window, ascending and unique, windows in ascending order.
// An error stops the fetch and is returned.
using CandleSink = std::function<Status(std::span<const Candle>)>;

// Thread: one thread at a time (it owns one HTTP connection and one codec).
class KlineFetcher {
 public:
  // `rest_url` e.g. "https://api.bybit.com" or the sim's "http://127.0.0.1:P". The limiter is the
  // shared one of this venue (RateLimiterRegistry::limiter); `clock` must outlive the fetcher.
  // Errors: invalid_argument for a bad URL.
  static Result<std::unique_ptr<KlineFetcher>> create(Exchange exchange, Market market, std::string rest_url,
                                                      std::shared_ptr<VenueLimiter> limiter, Clock& clock,
                                                      FetchOptions options = {});
  ~KlineFetcher();

  // Every closed candle of `series` opening in [from, to), through `sink`. A window the venue
  // has no candles for (before listing, a venue outage) is skipped, not retried forever.
  // Returns the candles delivered. Errors: the sink's error; rate_limited/timeout when the limiter
  // or the venue kept refusing past max_attempts; invalid_argument for a refused query (unknown
  // symbol, interval); cancelled when `stop` is requested.
  Result<std::int64_t> fetch(const SeriesKey& series, TimestampMs from, TimestampMs to, const CandleSink& sink,
                             std::stop_token stop = {});
  // fetch() into one vector.
  Result<std::vector<Candle>> fetch_all(const SeriesKey& series, TimestampMs from, TimestampMs to,
                                        std::stop_token stop = {});

  const FetchStats& stats() const noexcept { return stats_; }
  const std::string& rest_url() const noexcept { return rest_url_; }

 private:
  KlineFetcher(Exchange exchange, Market market, std::string rest_url, std::shared_ptr<VenueLimiter> limiter,
               Clock& clock, FetchOptions options);
  // One request, with retries; the parsed candles (open ones included) into `out`.
  Status get_page(const SeriesKey& series, const venue::KlineRequest& request, std::vector<Candle>& out,
                  std::stop_token stop);

  Exchange exchange_;
  Market market_;
  std::string rest_url_;
  std::shared_ptr<VenueLimiter> limiter_;
  Clock& clock_;
  FetchOptions options_;
  std::unique_ptr<net::HttpClient> http_;
  std::unique_ptr<VenueCodec> codec_;
  FetchStats stats_;
};

// The limiter bucket (preset name) a venue kline request names ("bybit.ip" → "ip").
// Errors: not_found for a bucket this table does not know.
Result<std::string_view> preset_bucket_for(std::string_view kline_bucket);

}  // namespace twinstar::feed
