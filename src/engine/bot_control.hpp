#pragma once
// Run-time control over an engine's bots, shared by the paper and the live engine: pause,
// resume, stop, symbol-list and parameter changes. The engine supplies what differs (its status,
// what its venue lists, how a new series is watched and warmed up) through Host.
// Thread: the engine's trading thread only (jobs of the EngineMailbox run there).

#include <memory>
#include <vector>

#include "bot/bots.hpp"
#include "engine/engine_control.hpp"

namespace twinstar {

// A bot's line of the status report. Thread: the bot's.
BotStatus bot_status(const Bot& bot);

class BotControl final : public EngineControl {
 public:
  class Host {
   public:
    virtual ~Host() = default;
    virtual EngineStatus status() = 0;
    // Errors: invalid_argument saying why the venue cannot serve `key`.
    virtual Status check_listed(const SeriesKey& key) = 0;
    // Starts delivering `added` to `bot` (subscribe, store) after warming it up on their history.
    virtual void watch(Bot& bot, const std::vector<SeriesKey>& added) = 0;
    // Feeds recent history into the bot's (new) strategy.
    virtual void rewarm(Bot& bot) = 0;
  };

  BotControl(std::vector<std::unique_ptr<Bot>>& bots, Host& host) : bots_(bots), host_(host) {}

  EngineStatus status() override { return host_.status(); }
  Status pause(std::string_view name) override;
  Status resume(std::string_view name) override;
  Status stop_bot(std::string_view name) override;
  Result<std::vector<std::string>> change_symbols(std::string_view name, SymbolChange change,
                                                  const std::vector<std::string>& symbols) override;
  Status set_params(std::string_view name, const std::map<std::string, double>& params) override;

 private:
  Result<Bot*> find(std::string_view name);
  std::vector<std::unique_ptr<Bot>>& bots_;
  Host& host_;
};

}  // namespace twinstar
