#pragma once
// API credentials: read from environment variables or a key file that only its owner can
// read (mode 0600). A Secret never prints its value: logs, errors and --help see "***".

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "config/config.hpp"
#include "core/error.hpp"

namespace twinstar {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  Secret(const Secret&) = default;
  Secret& operator=(const Secret&) = default;
  ~Secret();  // wipes the bytes before freeing them

  // The only way to the value: for signing requests, never for output.
  std::string_view reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }

 private:
  std::string value_;
};

struct Credentials {
  std::string api_key;  // public identifier, still printed only as a prefix (see redacted_key)
  Secret api_secret;
  Secret passphrase;    // OKX and Bitget
  // "abcd…" : enough to tell keys apart in a log line.
  std::string redacted_key() const;
};

// Environment lookup, injectable for tests.
using EnvLookup = const char* (*)(const char*);

// Resolves an account's credentials. Errors name the variable or the file, never a value:
// a key file readable by group or others is refused ("chmod 600 FILE").
Result<Credentials> load_credentials(const AccountConfig& account, EnvLookup env = nullptr);

}  // namespace twinstar

template <>
struct fmt::formatter<twinstar::Secret> : fmt::formatter<std::string_view> {
  auto format(const twinstar::Secret&, format_context& ctx) const {
    return fmt::formatter<std::string_view>::format("***", ctx);
  }
};
