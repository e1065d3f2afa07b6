// Fuzzes the rate-limit classifier and the usage-header readers: the first bytes choose the
// status and split the rest into header values and a body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "venue/binance/binance_usage.hpp"
#include "venue/bybit/bybit_usage.hpp"
#include "venue/common/rate_limit_verdict.hpp"

using namespace twinstar;
using namespace twinstar::venue;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  constexpr int kStatuses[] = {200, 400, 403, 418, 429, 503};
  const int status = kStatuses[data[0] % std::size(kStatuses)];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  // "value1\nvalue2\n...\n\nbody": header values in a fixed name order.
  constexpr std::string_view kNames[] = {"Retry-After", "X-MBX-USED-WEIGHT-1M", "X-MBX-ORDER-COUNT-10S",
                                         "X-Bapi-Limit-Status", "X-Bapi-Limit", "X-Bapi-Limit-Reset-Timestamp"};
  std::vector<HeaderRef> headers;
  for (const auto name : kNames) {
    const auto nl = rest.find('\n');
    if (nl == std::string_view::npos || nl == 0) break;
    headers.push_back({name, rest.substr(0, nl)});
    rest.remove_prefix(nl + 1);
  }
  for (Exchange e : kAllExchanges) {
    const auto v = classify_rate_limit(e, HttpAnswer{status, headers, rest}, from_epoch_ms(1'700'000'000'000));
    fuzz::require(v.is_rate_limited == (v.bucket_hint != LimitScope::none));
    if (v.pause_for) fuzz::require(v.pause_for->count() >= 0);
  }
  (void)binance::read_usage(headers);
  (void)bybit::read_usage(headers);
  return 0;
}
