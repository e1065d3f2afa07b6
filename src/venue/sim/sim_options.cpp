#include "venue/sim/sim_options.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace twinstar::venue::sim {

namespace {

Result<double> parse_probability(std::string_view item, std::string_view text) {
  double p = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
  if (ec != std::errc() || end != text.data() + text.size() || !(p >= 0 && p <= 1)) {
    return make_error(ErrorCode::invalid_argument, "--faults {}: '{}' is not a probability in [0, 1]", item, text);
  }
  return p;
}

Result<Duration> parse_dur(std::string_view item, std::string_view text) {
  auto d = parse_duration(text);
  if (!d) {
    return make_error(ErrorCode::invalid_argument, "--faults {}: '{}' is not a duration (e.g. 500ms, 30s, 2m)", item,
                      text);
  }
  return *d;
}

}  // namespace

bool FaultSpec::any() const noexcept {
  return drop_every || stall_every || refuse_every || dup_probability > 0 || delay_probability > 0 ||
         rest_5xx_probability > 0 || timeout_probability > 0;
}

std::string FaultSpec::describe() const {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ",") + s; };
  if (drop_every) add("drop=" + format_duration(*drop_every));
  if (stall_every) add("stall=" + format_duration(*stall_every) + ":" + format_duration(stall_for));
  if (dup_probability > 0) add(fmt::format("dup={}", dup_probability));
  if (delay_probability > 0) add(fmt::format("delay={}:{}", delay_probability, format_duration(delay_for)));
  if (rest_5xx_probability > 0) add(fmt::format("rest5xx={}", rest_5xx_probability));
  if (timeout_probability > 0) add(fmt::format("timeout={}:{}", timeout_probability, format_duration(timeout_hold)));
  if (refuse_every) add("refuse=" + format_duration(*refuse_every) + ":" + format_duration(refuse_for));
  return out.empty() ? "none" : out;
}

Result<FaultSpec> parse_fault_spec(std::string_view spec) {
  FaultSpec f;
  while (!spec.empty()) {
    const auto comma = spec.find(',');
    const std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      return make_error(ErrorCode::invalid_argument, "--faults: '{}' should be name=value (see --help)", item);
    }
    const std::string_view name = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    const auto colon = value.find(':');
    const std::string_view a = value.substr(0, colon);
    const std::optional<std::string_view> b =
        colon == std::string_view::npos ? std::nullopt : std::optional(value.substr(colon + 1));
    auto need_b = [&]() -> Status {
      if (!b) return make_error(ErrorCode::invalid_argument, "--faults {}: expected {}=EVERY:FOR, e.g. {}=60s:5s", item, name, name);
      return {};
    };
    if (name == "drop") {
      auto d = parse_dur(item, a);
      if (!d) return make_error(d.error());
      f.drop_every = *d;
    } else if (name == "stall" || name == "refuse") {
      if (auto s = need_b(); !s) return make_error(s.error());
      auto every = parse_dur(item, a);
      if (!every) return make_error(every.error());
      auto dur = parse_dur(item, *b);
      if (!dur) return make_error(dur.error());
      if (*dur >= *every) return make_error(ErrorCode::invalid_argument, "--faults {}: FOR must be shorter than EVERY", item);
      if (name == "stall") {
        f.stall_every = *every;
        f.stall_for = *dur;
      } else {
        f.refuse_every = *every;
        f.refuse_for = *dur;
      }
    } else if (name == "dup" || name == "rest5xx") {
      auto p = parse_probability(item, value);
      if (!p) return make_error(p.error());
      (name == "dup" ? f.dup_probability : f.rest_5xx_probability) = *p;
    } else if (name == "delay" || name == "timeout") {
      auto p = parse_probability(item, a);
      if (!p) return make_error(p.error());
      if (name == "delay") {
        if (auto s = need_b(); !s) return make_error(s.error());
        auto d = parse_dur(item, *b);
        if (!d) return make_error(d.error());
        f.delay_probability = *p;
        f.delay_for = *d;
      } else {
        f.timeout_probability = *p;
        if (b) {
          auto d = parse_dur(item, *b);
          if (!d) return make_error(d.error());
          f.timeout_hold = *d;
        }
      }
    } else {
      return make_error(ErrorCode::invalid_argument,
                        "--faults: unknown fault '{}' (known: drop, stall, dup, delay, rest5xx, timeout, refuse)", name);
    }
  }
  return f;
}

std::vector<SimAccountConfig> default_accounts() {
  return {
      {"alice", "SIMKEYALICE000000001", "SIMSECRETALICE00000000000000000001", 1001, Money::from_units(100'000)},
      {"bob", "SIMKEYBOB00000000002", "SIMSECRETBOB0000000000000000000002", 1002, Money::from_units(100'000)},
  };
}

Result<std::vector<SimAccountConfig>> load_accounts_file(const std::filesystem::path& file) {
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::config_error, "{}:{}: {}", file.string(), e.source().begin.line, e.description());
  }
  const auto* arr = root["account"].as_array();
  if (!arr || arr->empty()) {
    return make_error(ErrorCode::config_error, "{}: expected at least one [[account]] table", file.string());
  }
  std::vector<SimAccountConfig> out;
  std::uint64_t next_uid = 1001;
  for (const auto& node : *arr) {
    const auto* t = node.as_table();
    const auto line = node.source().begin.line;
    if (!t) return make_error(ErrorCode::config_error, "{}:{}: account must be a table", file.string(), line);
    SimAccountConfig a;
    a.uid = next_uid++;
    auto key = (*t)["api_key"].value<std::string>();
    auto secret = (*t)["api_secret"].value<std::string>();
    if (!key || key->empty() || key->size() > 64) {
      return make_error(ErrorCode::config_error, "{}:{}: api_key is required (1..64 characters)", file.string(), line);
    }
    if (!secret || secret->empty()) {
      return make_error(ErrorCode::config_error, "{}:{}: api_secret is required", file.string(), line);
    }
    a.api_key = *key;
    a.api_secret = *secret;
    a.name = (*t)["name"].value<std::string>().value_or("account" + std::to_string(out.size() + 1));
    if (auto uid = (*t)["uid"].value<std::int64_t>()) a.uid = static_cast<std::uint64_t>(*uid);
    if (const auto* u = (*t)["usdt"].as_string()) {
      auto m = Money::parse(u->get());
      if (!m || m->is_negative()) {
        return make_error(ErrorCode::config_error, "{}:{}: usdt must be a non-negative decimal, got '{}'", file.string(),
                          line, u->get());
      }
      a.usdt = *m;
    } else if (auto n = (*t)["usdt"].value<double>()) {
      auto m = Money::from_double(*n);
      if (!m || m->is_negative()) return make_error(ErrorCode::config_error, "{}:{}: usdt must be non-negative", file.string(), line);
      a.usdt = *m;
    }
    for (const auto& other : out) {
      if (other.api_key == a.api_key) {
        return make_error(ErrorCode::config_error, "{}:{}: api_key '{}' appears twice", file.string(), line, a.api_key);
      }
    }
    out.push_back(std::move(a));
  }
  return out;
}

Duration SimOptions::effective_idle_timeout() const {
  if (idle_timeout > Duration::zero()) return idle_timeout;
  const auto floor_real = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(30.0 * speed));
  return std::max<Duration>(std::chrono::minutes(10), floor_real);
}

Duration SimOptions::effective_push_period() const {
  if (push_period > Duration::zero()) return push_period;
  const auto seconds = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::floor(speed * 0.2)));
  return std::chrono::seconds(seconds);
}

}  // namespace twinstar::venue::sim
