#pragma once
// HMAC-SHA256 and encodings for request signers (Bybit hex, OKX/Bitget base64).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace twinstar::net {

using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest hmac_sha256(std::string_view key, std::string_view message);
std::string to_hex(const std::uint8_t* data, std::size_t size);  // lowercase
std::string to_base64(const std::uint8_t* data, std::size_t size);
// Lowercase hex HMAC-SHA256, as Bybit and Binance expect.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
// Constant-time comparison, so a signature check does not leak how many bytes matched.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace twinstar::net
