// REST kline request builders and the pager: exact paths and queries per venue, limits, the
// endpoint chosen by age, and full coverage of a range with no overlap.

#include "venue/common/kline_request.hpp"

#include <gtest/gtest.h>

#include "venue/binance/binance_kline_request.hpp"
#include "venue/bitget/bitget_kline_request.hpp"
#include "venue/bybit/bybit_kline_request.hpp"
#include "venue/okx/okx_kline_request.hpp"

namespace twinstar::venue {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;

Symbol sym(std::string_view s) { return Symbol::parse(s).value(); }
TimestampMs at(std::string_view iso) { return floor_ms(parse_iso8601(iso).value()); }

KlineQuery query(Exchange e, Market m, std::string_view symbol, Interval i, TimestampMs from, TimestampMs to,
                 TimestampMs now) {
  KlineQuery q;
  q.series = SeriesKey{e, m, sym(symbol), i};
  q.from = from;
  q.to = to;
  q.now = now;
  return q;
}

// Drains a pager, checking the windows tile [first open, to) with no gap and no overlap.
std::vector<KlineRequest> drain(KlinePager& pager) {
  std::vector<KlineRequest> out;
  while (!pager.done()) {
    auto r = pager.next();
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    if (!r) break;
    if (!out.empty()) {
      EXPECT_EQ(out.back().to, r->from);
    }
    out.push_back(*r);
  }
  return out;
}

TEST(KlineGrid, counts_and_advances_on_the_interval_grid) {
  EXPECT_EQ(first_open_at_or_after(Interval::m1, at("2024-01-01T10:00:30Z")), at("2024-01-01T10:01:00Z"));
  EXPECT_EQ(first_open_at_or_after(Interval::m1, at("2024-01-01T10:00:00Z")), at("2024-01-01T10:00:00Z"));
  EXPECT_EQ(count_opens(Interval::m1, at("2024-01-01T10:00:00Z"), at("2024-01-01T10:10:00Z")), 10);
  EXPECT_EQ(count_opens(Interval::m1, at("2024-01-01T10:00:00Z"), at("2024-01-01T10:10:00.001Z")), 11);
  EXPECT_EQ(count_opens(Interval::m1, at("2024-01-01T10:10:00Z"), at("2024-01-01T10:00:00Z")), 0);
  EXPECT_EQ(count_opens(Interval::mo1, at("2024-01-15T00:00:00Z"), at("2024-06-01T00:00:00Z")), 4);  // Feb..May
  EXPECT_EQ(advance_opens(Interval::mo1, at("2024-01-01T00:00:00Z"), 13), at("2025-02-01T00:00:00Z"));
  // Weeks open on Mondays: 2024-01-01 was a Monday.
  EXPECT_EQ(first_open_at_or_after(Interval::w1, at("2024-01-02T00:00:00Z")), at("2024-01-08T00:00:00Z"));
}

TEST(BybitKlineRequest, query_carries_category_interval_start_end_and_limit) {
  auto r = bybit::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::m15, from_epoch_ms(1670601600000),
                                      from_epoch_ms(1670601600000 + 4 * 15 * 60'000));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->path, "/v5/market/kline");
  EXPECT_EQ(r->query, "category=linear&symbol=BTCUSDT&interval=15&start=1670601600000&end=1670605199999&limit=4");
  EXPECT_EQ(r->target(), "/v5/market/kline?category=linear&symbol=BTCUSDT&interval=15&start=1670601600000&end=1670605199999&limit=4");
  EXPECT_EQ(r->expected_rows, 4);
  EXPECT_TRUE(r->keeps_newest);
  EXPECT_EQ(r->bucket, "bybit.ip");
  auto spot = bybit::build_kline_request(Market::spot, sym("ETHUSDT"), Interval::d1, at("2024-01-01T00:00:00Z"),
                                         at("2024-01-03T00:00:00Z"));
  ASSERT_TRUE(spot);
  EXPECT_EQ(spot->query, "category=spot&symbol=ETHUSDT&interval=D&start=1704067200000&end=1704239999999&limit=2");
  // 1001 rows is over the limit; 8h does not exist on Bybit.
  EXPECT_FALSE(bybit::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::m1, at("2024-01-01T00:00:00Z"),
                                          at("2024-01-01T00:00:00Z") + minutes(1001)));
  EXPECT_FALSE(bybit::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::h8, at("2024-01-01T00:00:00Z"),
                                          at("2024-01-02T00:00:00Z")));
}

TEST(BinanceKlineRequest, spot_and_usdm_paths_weights_and_limits) {
  auto spot = binance::build_kline_request(Market::spot, sym("BNBBTC"), Interval::m1, from_epoch_ms(1672515780000),
                                           from_epoch_ms(1672515780000 + 1000 * 60'000));
  ASSERT_TRUE(spot);
  EXPECT_EQ(spot->target(),
            "/api/v3/klines?symbol=BNBBTC&interval=1m&startTime=1672515780000&endTime=1672575779999&limit=1000");
  EXPECT_EQ(spot->weight, 2);
  EXPECT_EQ(spot->bucket, "binance.spot.weight");
  EXPECT_FALSE(spot->keeps_newest);
  auto usdm = binance::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::h1, at("2024-01-01T00:00:00Z"),
                                           at("2024-01-01T00:00:00Z") + hours(1500));
  ASSERT_TRUE(usdm);
  EXPECT_EQ(usdm->path, "/fapi/v1/klines");
  EXPECT_EQ(usdm->limit, 1500);
  EXPECT_EQ(usdm->weight, 10);
  EXPECT_EQ(binance::usdm_kline_weight(99), 1);
  EXPECT_EQ(binance::usdm_kline_weight(100), 2);
  EXPECT_EQ(binance::usdm_kline_weight(499), 2);
  EXPECT_EQ(binance::usdm_kline_weight(500), 5);
  EXPECT_EQ(binance::usdm_kline_weight(1000), 5);
  EXPECT_EQ(binance::usdm_kline_weight(1001), 10);
  EXPECT_FALSE(binance::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::m1, at("2024-01-01T00:00:00Z"),
                                            at("2024-01-01T00:00:00Z") + minutes(1001)));
  EXPECT_FALSE(binance::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::s1, at("2024-01-01T00:00:00Z"),
                                            at("2024-01-01T00:00:10Z")));
  EXPECT_EQ(binance::stream_name(Market::spot, Interval::m1, sym("BNBBTC")).value(), "bnbbtc@kline_1m");
  EXPECT_EQ(binance::combined_stream_url(Market::linear, std::vector<KlineTopic>{{sym("BTCUSDT"), Interval::m1},
                                                                                 {sym("ETHUSDT"), Interval::h1}})
                .value(),
            "wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1m/ethusdt@kline_1h");
}

TEST(OkxKlineRequest, recent_windows_use_candles_and_older_ones_history) {
  const TimestampMs now = at("2024-06-01T12:00:30Z");
  auto recent = okx::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::m1, at("2024-06-01T10:00:00Z"),
                                         at("2024-06-01T11:00:00Z"), now);
  ASSERT_TRUE(recent) << recent.error().message;
  EXPECT_EQ(recent->target(), "/api/v5/market/candles?instId=BTC-USDT&bar=1m&after=1717239599999&before=1717235999999&limit=60");
  EXPECT_EQ(recent->bucket, "okx.market.candles");
  EXPECT_TRUE(recent->keeps_newest);
  auto old = okx::build_kline_request(Market::linear, sym("BTC-USDT-SWAP"), Interval::m1, at("2024-05-01T00:00:00Z"),
                                      at("2024-05-01T05:00:00Z"), now);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->path, "/api/v5/market/history-candles");
  EXPECT_EQ(old->bucket, "okx.market.history-candles");
  EXPECT_NE(old->query.find("instId=BTC-USDT-SWAP&bar=1m"), std::string::npos);
  EXPECT_EQ(old->limit, 300);
  // Daily bars use the UTC spelling.
  auto daily = okx::build_kline_request(Market::spot, sym("ETH-USDT"), Interval::d1, at("2024-05-01T00:00:00Z"),
                                        at("2024-05-03T00:00:00Z"), now);
  ASSERT_TRUE(daily);
  EXPECT_NE(daily->query.find("bar=1Dutc"), std::string::npos);
  // 301 rows is over the limit.
  EXPECT_FALSE(okx::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::m1, at("2024-06-01T00:00:00Z"),
                                        at("2024-06-01T00:00:00Z") + minutes(301), now));
}

TEST(OkxKlineRequest, inst_id_spelling) {
  EXPECT_EQ(okx::inst_id(Market::spot, sym("BTCUSDT")).value().view(), "BTC-USDT");
  EXPECT_EQ(okx::inst_id(Market::linear, sym("BTCUSDT")).value().view(), "BTC-USDT-SWAP");
  EXPECT_EQ(okx::inst_id(Market::spot, sym("ETHBTC")).value().view(), "ETH-BTC");
  EXPECT_EQ(okx::inst_id(Market::linear, sym("BTC-USDT-SWAP")).value().view(), "BTC-USDT-SWAP");
  EXPECT_FALSE(okx::inst_id(Market::spot, sym("BTC-USDT-SWAP")));
  EXPECT_FALSE(okx::inst_id(Market::linear, sym("BTC-USDT")));
  EXPECT_FALSE(okx::inst_id(Market::spot, sym("FOOBAR")));
  EXPECT_EQ(okx::candle_channel(Interval::h1).value(), "candle1H");
  EXPECT_EQ(okx::candle_channel(Interval::d1).value(), "candle1Dutc");
}

TEST(BitgetKlineRequest, spot_and_mix_candles_and_history) {
  const TimestampMs now = at("2024-06-01T12:00:00Z");
  auto spot = bitget::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::m1, at("2024-06-01T10:00:00Z"),
                                          at("2024-06-01T11:00:00Z"), now);
  ASSERT_TRUE(spot) << spot.error().message;
  EXPECT_EQ(spot->target(),
            "/api/v2/spot/market/candles?symbol=BTCUSDT&granularity=1min&startTime=1717236000000&endTime=1717239599999&limit=60");
  EXPECT_EQ(spot->bucket, "bitget.market");
  auto mix = bitget::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::h1, at("2024-05-20T00:00:00Z"),
                                         at("2024-05-21T00:00:00Z"), now);
  ASSERT_TRUE(mix);
  EXPECT_EQ(mix->target(),
            "/api/v2/mix/market/candles?symbol=BTCUSDT&productType=USDT-FUTURES&granularity=1H&startTime=1716163200000&"
            "endTime=1716249599999&limit=24");
  // Older than the lookback: history endpoints, at most 200 rows; spot history sends no startTime.
  auto spot_old = bitget::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::m1, at("2024-01-01T00:00:00Z"),
                                              at("2024-01-01T03:20:00Z"), now);
  ASSERT_TRUE(spot_old);
  EXPECT_EQ(spot_old->target(),
            "/api/v2/spot/market/history-candles?symbol=BTCUSDT&granularity=1min&endTime=1704079199999&limit=200");
  EXPECT_TRUE(spot_old->keeps_newest);
  auto mix_old = bitget::build_kline_request(Market::linear, sym("BTCUSDT"), Interval::m1, at("2024-01-01T00:00:00Z"),
                                             at("2024-01-01T01:00:00Z"), now);
  ASSERT_TRUE(mix_old);
  EXPECT_EQ(mix_old->path, "/api/v2/mix/market/history-candles");
  EXPECT_FALSE(bitget::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::m1, at("2024-01-01T00:00:00Z"),
                                           at("2024-01-01T03:21:00Z"), now));
  // More than 90 days in one window, and a separator in the symbol.
  EXPECT_FALSE(bitget::build_kline_request(Market::spot, sym("BTCUSDT"), Interval::d1, at("2024-01-01T00:00:00Z"),
                                           at("2024-04-01T00:00:00Z") + days(1), at("2024-04-03T00:00:00Z")));
  EXPECT_FALSE(bitget::build_kline_request(Market::spot, sym("BTC-USDT"), Interval::m1, at("2024-06-01T10:00:00Z"),
                                           at("2024-06-01T11:00:00Z"), now));
  EXPECT_EQ(bitget::candle_channel(Interval::h4).value(), "candle4H");
  EXPECT_EQ(bitget::candle_channel(Interval::w1).value(), "candle1Wutc");
  EXPECT_FALSE(bitget::candle_channel(Interval::m3));
}

TEST(KlinePager, bybit_range_is_tiled_by_pages_of_at_most_1000) {
  const auto from = at("2024-01-01T00:00:00Z");
  auto pager = KlinePager::create(query(Exchange::bybit, Market::linear, "BTCUSDT", Interval::m1, from,
                                        from + minutes(2500), from + days(10)));
  ASSERT_TRUE(pager) << pager.error().message;
  EXPECT_EQ(pager->total_rows(), 2500);
  const auto requests = drain(*pager);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].from, from);
  EXPECT_EQ(requests[0].limit, 1000);
  EXPECT_EQ(requests[1].limit, 1000);
  EXPECT_EQ(requests[2].limit, 500);
  EXPECT_EQ(requests[2].to, from + minutes(2500));
  EXPECT_FALSE(pager->next());  // done
}

TEST(KlinePager, unaligned_range_starts_at_the_next_open_and_empty_range_is_done) {
  auto pager = KlinePager::create(query(Exchange::binance, Market::spot, "BTCUSDT", Interval::h1,
                                        at("2024-01-01T00:30:00Z"), at("2024-01-01T03:00:00Z"), at("2024-02-01T00:00:00Z")));
  ASSERT_TRUE(pager);
  const auto requests = drain(*pager);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].from, at("2024-01-01T01:00:00Z"));
  EXPECT_EQ(requests[0].expected_rows, 2);
  auto empty = KlinePager::create(query(Exchange::binance, Market::spot, "BTCUSDT", Interval::h1,
                                        at("2024-01-01T03:00:00Z"), at("2024-01-01T03:00:00Z"), at("2024-02-01T00:00:00Z")));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->done());
  EXPECT_EQ(empty->total_rows(), 0);
}

TEST(KlinePager, usdm_defaults_to_1000_rows_and_page_rows_overrides) {
  const auto from = at("2024-01-01T00:00:00Z");
  auto q = query(Exchange::binance, Market::linear, "BTCUSDT", Interval::m1, from, from + minutes(3000), from + days(5));
  auto pager = KlinePager::create(q);
  ASSERT_TRUE(pager);
  auto requests = drain(*pager);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].weight, 5);
  q.page_rows = 1500;
  pager = KlinePager::create(q);
  ASSERT_TRUE(pager);
  requests = drain(*pager);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].weight, 10);
  q.page_rows = 99;
  pager = KlinePager::create(q);
  ASSERT_TRUE(pager);
  EXPECT_EQ(drain(*pager).size(), 31u);
  q.page_rows = -1;
  EXPECT_FALSE(KlinePager::create(q));
}

TEST(KlinePager, okx_switches_from_history_to_recent_candles) {
  const TimestampMs now = at("2024-06-10T00:00:00Z");
  // 3000 one-minute candles ending at now: the oldest ~1600 come from history-candles.
  auto pager = KlinePager::create(query(Exchange::okx, Market::spot, "BTCUSDT", Interval::m1, now - minutes(3000), now, now));
  ASSERT_TRUE(pager);
  const auto requests = drain(*pager);
  ASSERT_EQ(requests.size(), 10u);
  EXPECT_EQ(requests.front().path, okx::kHistoryCandlesPath);
  EXPECT_EQ(requests.back().path, okx::kCandlesPath);
  for (const auto& r : requests) EXPECT_LE(r.limit, 300);
  // An instrument OKX cannot spell fails up front.
  EXPECT_FALSE(KlinePager::create(query(Exchange::okx, Market::spot, "FOOBAR", Interval::m1, now - minutes(10), now, now)));
}

TEST(KlinePager, bitget_daily_pages_stay_within_90_days) {
  const TimestampMs now = at("2024-06-10T00:00:00Z");
  auto pager = KlinePager::create(
      query(Exchange::bitget, Market::spot, "BTCUSDT", Interval::d1, at("2023-06-10T00:00:00Z"), now, now));
  ASSERT_TRUE(pager);
  const auto requests = drain(*pager);
  for (const auto& r : requests) {
    EXPECT_LE(r.to - r.from, days(90));
    EXPECT_LE(r.limit, 200);
  }
  EXPECT_EQ(requests.size(), 5u);  // 366 days: 90 + 90 + 90 + 90 + 6
}

TEST(KlinePager, unsupported_intervals_fail_up_front) {
  const auto from = at("2024-01-01T00:00:00Z");
  EXPECT_FALSE(KlinePager::create(query(Exchange::bybit, Market::linear, "BTCUSDT", Interval::s1, from, from + hours(1), from)));
  EXPECT_FALSE(KlinePager::create(query(Exchange::bitget, Market::spot, "BTCUSDT", Interval::h8, from, from + days(1), from)));
}

std::vector<Candle> candles_at(TimestampMs first, int n, Interval interval = Interval::m1) {
  std::vector<Candle> out;
  for (int i = 0; i < n; ++i) {
    Candle c;
    c.open_time = advance_opens(interval, first, i);
    out.push_back(c);
  }
  return out;
}

TEST(KlinePager, short_pages_get_follow_ups_on_the_side_the_venue_dropped) {
  const TimestampMs now = at("2024-06-10T00:00:00Z");
  const auto from = at("2024-05-01T00:00:00Z");
  // OKX history pages backwards: a server capping at 100 returns the newest 100 of 300.
  auto okx_pager = KlinePager::create(query(Exchange::okx, Market::spot, "BTCUSDT", Interval::m1, from, from + minutes(300), now));
  ASSERT_TRUE(okx_pager);
  auto sent = okx_pager->next().value();
  ASSERT_EQ(sent.expected_rows, 300);
  auto follow = okx_pager->follow_ups(sent, candles_at(from + minutes(200), 100));
  ASSERT_EQ(follow.size(), 1u);
  EXPECT_EQ(follow[0].from, from);
  EXPECT_EQ(follow[0].to, from + minutes(200));
  EXPECT_EQ(follow[0].expected_rows, 200);
  // Binance pages forwards: a short page misses the newer end.
  auto bn = KlinePager::create(query(Exchange::binance, Market::spot, "BTCUSDT", Interval::m1, from, from + minutes(1000), now));
  ASSERT_TRUE(bn);
  sent = bn->next().value();
  follow = bn->follow_ups(sent, candles_at(from, 500));
  ASSERT_EQ(follow.size(), 1u);
  EXPECT_EQ(follow[0].from, from + minutes(500));
  EXPECT_EQ(follow[0].to, from + minutes(1000));
  // Complete and empty pages need nothing more; rows outside the window do not count.
  EXPECT_TRUE(bn->follow_ups(sent, candles_at(from, 1000)).empty());
  EXPECT_TRUE(bn->follow_ups(sent, {}).empty());
  EXPECT_TRUE(bn->follow_ups(sent, candles_at(from + minutes(1000), 5)).empty());
  // A page with rows only in the middle asks for both sides.
  follow = bn->follow_ups(sent, candles_at(from + minutes(100), 10));
  ASSERT_EQ(follow.size(), 2u);
  EXPECT_EQ(follow[0].from, from + minutes(110));
  EXPECT_EQ(follow[1].to, from + minutes(100));
}

}  // namespace
}  // namespace twinstar::venue
