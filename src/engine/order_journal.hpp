#pragma once
// The engine's durable record of every order it sends: written before the order leaves the
// process (write-ahead) and updated with every report from the venue. After a crash it says
// which orders were in flight (to be looked up on the venue), which positions each bot held,
// with their stop-loss and take-profit levels, so a restart resumes instead of guessing.
// One SQLite file in WAL mode (synchronous=NORMAL: a process crash loses nothing written).

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bot/order.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"

struct sqlite3;

namespace twinstar {

struct OrderRecord {
  std::string client_id;
  std::string bot;
  std::string account;
  Exchange exchange = Exchange::bybit;
  Market market = Market::linear;
  OrderRequest request;           // as submitted (symbol, side, type, quantity, purpose, levels)
  OrderStatus status = OrderStatus::submitted;
  Quantity filled;                // cumulative, as last reported
  Price average_price;
  Money fees;
  std::string reason;
  Timestamp created{};
  Timestamp updated{};
};

// Thread: any (one connection for reads and writes, serialised by a mutex inside; a second
// one for checkpoints).
class OrderJournal {
 public:
  // Opens or creates the file. Errors: io_error (not a twinstar order journal, permissions, corrupt).
  static Result<std::unique_ptr<OrderJournal>> open(const std::filesystem::path& path);
  ~OrderJournal();
  OrderJournal(const OrderJournal&) = delete;
  OrderJournal& operator=(const OrderJournal&) = delete;

  // Before the order is sent. Errors: conflict (the client id exists), io_error.
  Status record_submit(const OrderRecord& record);
  // Several orders in one transaction (a round's orders pay one commit): all or none.
  // Errors: as record_submit, for the first that failed.
  Status record_submits(std::span<const OrderRecord> records);
  // A venue report; applied only if it moves the order forward (never back to an earlier state
  // or a smaller fill), so a late duplicate changes nothing. Returns whether it changed the row.
  // Errors: not_found (unknown client id), io_error.
  Result<bool> record_update(const OrderUpdate& update);
  Result<std::optional<OrderRecord>> find(const std::string& client_id);
  // Orders not yet in a terminal state, oldest first.
  Result<std::vector<OrderRecord>> open_orders();
  // Every order of `bot` on `symbol` (all symbols when empty), oldest first.
  Result<std::vector<OrderRecord>> orders_of(const std::string& bot, std::optional<Symbol> symbol = std::nullopt);
  // Every order, oldest first.
  Result<std::vector<OrderRecord>> all();
  // The largest n of "<prefix><n>" client ids, 0 when none (so ids stay unique across restarts).
  Result<std::uint64_t> last_sequence(const std::string& prefix);

  // Copies the write-ahead log into the file (SQLite's passive checkpoint) on a second
  // connection, so writers never wait for it. The owner calls it every second or so from a
  // thread off the order path; without it a writer checkpoints inline only once the log holds
  // ~40 MB. Errors: io_error.
  Status checkpoint();

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  struct Impl;
  OrderJournal(std::filesystem::path path, std::unique_ptr<Impl> impl);
  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
};

// The position a bot holds in one symbol according to its orders: entries filled minus exits
// filled, the entry price volume-weighted over the entry fills, the newest entry's levels.
struct JournalPosition {
  std::string bot;
  Symbol symbol;
  Side side = Side::buy;
  Quantity quantity;          // still open
  Quantity entered;           // filled by entries
  Price entry_price;
  Money entry_fees;
  Money exit_notional;
  Money exit_fees;
  Quantity exited;
  std::optional<Price> stop_loss;
  std::optional<Price> take_profit;
  Timestamp opened{};
  TimestampMs entry_bar{};
};
// Folds one bot's orders (oldest first) into its open positions; fully exited ones, oldest first,
// go to `closed` when given.
std::vector<JournalPosition> positions_from_orders(const std::vector<OrderRecord>& orders,
                                                   std::vector<JournalPosition>* closed = nullptr);

}  // namespace twinstar
