#pragma once
// Splitting one venue's rate budget between engine processes on one host. Each process claims
// a share of every bucket of a preset in DATA_DIR/ratelimit/<preset>.shares; the claims of live
// processes never sum to more than 1, so the processes together never exceed a window that
// each keeps within its share. A crashed process's claim is dropped by the next claimant.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/decimal.hpp"
#include "core/error.hpp"

namespace twinstar {

struct ShareHolder {
  std::int64_t pid = 0;
  Ratio share;
  std::string label;  // what the holder said it is ("twinstar run single.toml")
};

// Held for the life of the process's limiter; the destructor gives the share back.
// Thread: one owner.
class BudgetShareClaim {
 public:
  // Claims `share` (in (0, 1]) of `preset`'s budget. Under an exclusive lock on the file, claims
  // of processes that are provably gone are dropped; a claim by this process is replaced.
  // Errors: invalid_argument (share out of range, bad preset name); limit_exceeded when the live
  // claims plus this one pass 1 (the message lists them and what is left); io_error.
  static Result<BudgetShareClaim> claim(const std::filesystem::path& dir, std::string_view preset, Ratio share,
                                        std::string_view label);
  // The live claims in the file (for status output).
  static Result<std::vector<ShareHolder>> holders(const std::filesystem::path& dir, std::string_view preset);

  BudgetShareClaim(BudgetShareClaim&& other) noexcept;
  BudgetShareClaim& operator=(BudgetShareClaim&& other) noexcept;
  BudgetShareClaim(const BudgetShareClaim&) = delete;
  BudgetShareClaim& operator=(const BudgetShareClaim&) = delete;
  ~BudgetShareClaim();

  Ratio share() const noexcept { return share_; }
  const std::filesystem::path& file() const noexcept { return file_; }
  // Gives the share back now. Idempotent.
  void release();

 private:
  BudgetShareClaim(std::filesystem::path file, Ratio share) : file_(std::move(file)), share_(share) {}
  std::filesystem::path file_;
  Ratio share_;
};

}  // namespace twinstar
