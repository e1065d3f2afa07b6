#pragma once

#include <string_view>

namespace twinstar {

// ASCII case-insensitive equality, as HTTP header names compare.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace twinstar
