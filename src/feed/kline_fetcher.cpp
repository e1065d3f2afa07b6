#include "feed/kline_fetcher.hpp"

#include <algorithm>
#include <charconv>

#include <spdlog/spdlog.h>

#include "venue/common/kline_request.hpp"
#include "venue/common/rate_limit_verdict.hpp"

namespace twinstar::feed {

Result<std::string_view> preset_bucket_for(std::string_view kline_bucket) {
  if (kline_bucket == "bybit.ip") return std::string_view("ip");
  if (kline_bucket == "binance.spot.weight" || kline_bucket == "binance.usdm.weight") return std::string_view("request_weight");
  if (kline_bucket == "okx.market.candles") return std::string_view("candles");
  if (kline_bucket == "okx.market.history-candles") return std::string_view("history_candles");
  if (kline_bucket == "bitget.market") return std::string_view("market_data");
  return make_error(ErrorCode::not_found, "no limiter bucket for kline bucket '{}'", kline_bucket);
}

KlineFetcher::KlineFetcher(Exchange exchange, Market market, std::string rest_url, std::shared_ptr<VenueLimiter> limiter,
                           Clock& clock, FetchOptions options)
    : exchange_(exchange), market_(market), rest_url_(std::move(rest_url)), limiter_(std::move(limiter)), clock_(clock),
      options_(std::move(options)) {}
KlineFetcher::~KlineFetcher() = default;

Result<std::unique_ptr<KlineFetcher>> KlineFetcher::create(Exchange exchange, Market market, std::string rest_url,
                                                           std::shared_ptr<VenueLimiter> limiter, Clock& clock,
                                                           FetchOptions options) {
  if (!limiter) return make_error(ErrorCode::invalid_argument, "kline fetcher for {} needs a limiter", exchange);
  auto http = net::HttpClient::create(rest_url, options.http);
  if (!http) return std::unexpected(http.error());
  auto codec = VenueCodec::create(exchange, market);
  if (!codec) return std::unexpected(codec.error());
  std::unique_ptr<KlineFetcher> f(
      new KlineFetcher(exchange, market, std::move(rest_url), std::move(limiter), clock, std::move(options)));
  f->http_ = std::move(*http);
  f->codec_ = std::move(*codec);
  return f;
}

namespace {

std::optional<std::int64_t> venue_code_of(Exchange exchange, std::string_view body) {
  const auto field = venue::detail::body_field(body, exchange == Exchange::bybit ? "retCode" : "code");
  if (!field) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(field->data(), field->data() + field->size(), v);
  if (ec != std::errc() || end != field->data() + field->size()) return std::nullopt;
  return v;
}

}  // namespace

Status KlineFetcher::get_page(const SeriesKey& series, const venue::KlineRequest& request, std::vector<Candle>& out,
                              std::stop_token stop) {
  auto bucket_name = preset_bucket_for(request.bucket);
  if (!bucket_name) return std::unexpected(bucket_name.error());
  auto cost = limiter_->cost({CostItem{*bucket_name, request.weight}});
  if (!cost) return std::unexpected(cost.error());
  const std::string target = request.target();
  Duration backoff = options_.retry_base;
  Error last{ErrorCode::internal, "no attempt"};
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (stop.stop_requested()) return make_error(ErrorCode::cancelled, "backfill of {} cancelled", series.symbol);
    if (auto st = limiter_->acquire_for(*cost, Priority::market_data, options_.acquire_timeout, stop); !st) {
      return make_error(st.error().code, "{} {} {}: rate limiter: {}", series.exchange, series.symbol, series.interval,
                        st.error().message);
    }
    ++stats_.requests;
    stats_.weight += static_cast<std::uint64_t>(request.weight);
    auto answer = http_->get(target);
    if (!answer) {
      last = answer.error();
      if (last.code == ErrorCode::unavailable && attempt < options_.max_attempts) {
        // The venue closed a kept-alive connection under the request; the next attempt opens a
        // fresh one at once, with its own grant (the failed one may have been counted).
        ++stats_.retries;
        continue;
      }
    } else {
      std::vector<HttpHeader> headers;
      headers.reserve(answer->headers.size());
      for (const auto& h : answer->headers) headers.push_back({h.name, h.value});
      const VenueResponse response{exchange_, answer->status, venue_code_of(exchange_, answer->body), headers};
      if (auto retry = limiter_->observe_response(*cost, response)) {
        ++stats_.rate_limited;
        spdlog::warn("{} {}: rate limited ({}), pausing {}", exchange_, target, retry->reason,
                     format_duration(retry->pause));
        last = Error{ErrorCode::rate_limited, fmt::format("{} answered HTTP {}: {}", rest_url_, answer->status, retry->reason)};
        continue;  // the limiter is paused now; the next acquire waits it out
      }
      if (answer->status >= 500) {
        last = Error{ErrorCode::io_error, fmt::format("{}{} answered HTTP {}", rest_url_, target, answer->status)};
      } else {
        out.clear();
        auto st = codec_->parse_rest(answer->body, series, floor_ms(clock_.now()), out);
        if (st) return {};
        if (st.error().code != ErrorCode::rate_limited) {
          return make_error(st.error().code, "{}{}: {}", rest_url_, target, st.error().message);
        }
        ++stats_.rate_limited;
        last = st.error();
      }
    }
    if (attempt == options_.max_attempts) break;
    ++stats_.retries;
    if (!clock_.sleep_for(backoff, stop)) return make_error(ErrorCode::cancelled, "backfill of {} cancelled", series.symbol);
    backoff = std::min<Duration>(backoff * 2, options_.retry_max);
  }
  return make_error(last.code, "{} {} {}: giving up after {} attempts: {}", series.exchange, series.symbol,
                    series.interval, options_.max_attempts, last.message);
}

Result<std::int64_t> KlineFetcher::fetch(const SeriesKey& series, TimestampMs from, TimestampMs to,
                                         const CandleSink& sink, std::stop_token stop) {
  if (series.exchange != exchange_ || series.market != market_) {
    return make_error(ErrorCode::invalid_argument, "fetcher for {} {} asked for {} {}", exchange_, market_,
                      series.exchange, series.market);
  }
  if (to <= from) return std::int64_t{0};
  venue::KlineQuery query{series, from, to, floor_ms(clock_.now()), options_.page_rows};
  auto pager = venue::KlinePager::create(query);
  if (!pager) return std::unexpected(pager.error());
  std::int64_t delivered = 0;
  std::vector<Candle> page;
  std::vector<Candle> window;
  while (!pager->done()) {
    auto request = pager->next();
    if (!request) return std::unexpected(request.error());
    window.clear();
    // The window and the follow-ups its short pages need, then one ascending, unique delivery.
    std::vector<venue::KlineRequest> pending{*request};
    int follow_ups = 0;
    while (!pending.empty()) {
      const auto r = pending.back();
      pending.pop_back();
      if (auto st = get_page(series, r, page, stop); !st) return std::unexpected(st.error());
      for (const auto& c : page) {
        if (c.closed && c.open_time >= r.from && c.open_time < r.to) window.push_back(c);
      }
      if (follow_ups < options_.max_follow_ups_per_page) {
        for (auto& more : pager->follow_ups(r, page)) {
          if (follow_ups++ >= options_.max_follow_ups_per_page) break;
          ++stats_.follow_ups;
          pending.push_back(std::move(more));
        }
      }
    }
    std::sort(window.begin(), window.end(), [](const Candle& a, const Candle& b) { return a.open_time < b.open_time; });
    window.erase(std::unique(window.begin(), window.end(),
                             [](const Candle& a, const Candle& b) { return a.open_time == b.open_time; }),
                 window.end());
    if (window.empty()) continue;
    if (auto st = sink(window); !st) return std::unexpected(st.error());
    delivered += static_cast<std::int64_t>(window.size());
    stats_.candles += window.size();
  }
  return delivered;
}

Result<std::vector<Candle>> KlineFetcher::fetch_all(const SeriesKey& series, TimestampMs from, TimestampMs to,
                                                    std::stop_token stop) {
  std::vector<Candle> all;
  auto n = fetch(series, from, to, [&](std::span<const Candle> c) -> Status {
    all.insert(all.end(), c.begin(), c.end());
    return {};
  }, stop);
  if (!n) return std::unexpected(n.error());
  return all;
}

}  // namespace twinstar::feed
