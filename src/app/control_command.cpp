#include "app/control_command.hpp"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "core/json_writer.hpp"
#include "observe/control_client.hpp"
#include "strategy/strategy.hpp"

namespace twinstar {

namespace {

constexpr std::chrono::milliseconds kEngineAnswer{5000};

net::HttpResponse error_response(const Error& e) {
  int status = 500;
  switch (e.code) {
    case ErrorCode::not_found: status = 404; break;
    case ErrorCode::invalid_argument:
    case ErrorCode::parse_error:
    case ErrorCode::config_error: status = 400; break;
    case ErrorCode::timeout: status = 504; break;
    case ErrorCode::unavailable: status = 503; break;
    default: break;
  }
  return observe::control_error(status, e.message);
}

// The request body of a bot command: {"bot": NAME, ...}. Errors name the field.
struct BotRequest {
  std::string bot;
  std::optional<SymbolChange> change;
  std::vector<std::string> symbols;
  std::map<std::string, double> params;
};

Result<BotRequest> parse_bot_request(const std::string& body) {
  simdjson::dom::parser parser;
  simdjson::padded_string json(body);
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return make_error(ErrorCode::parse_error, "the request body is not a JSON object");
  }
  BotRequest out;
  std::string_view bot;
  if (doc["bot"].get(bot) != simdjson::SUCCESS || bot.empty()) return make_error(ErrorCode::invalid_argument, "field 'bot' (a bot name) is missing");
  out.bot = std::string(bot);
  for (auto [name, change] : {std::pair{"set", SymbolChange::set}, std::pair{"add", SymbolChange::add},
                              std::pair{"remove", SymbolChange::remove}}) {
    simdjson::dom::array list;
    if (doc[name].get(list) != simdjson::SUCCESS) continue;
    if (out.change) return make_error(ErrorCode::invalid_argument, "give one of 'set', 'add', 'remove', not several");
    out.change = change;
    for (auto item : list) {
      std::string_view s;
      if (item.get(s) != simdjson::SUCCESS) return make_error(ErrorCode::invalid_argument, "'{}' must be a list of symbol strings", name);
      out.symbols.emplace_back(s);
    }
  }
  simdjson::dom::object params;
  if (doc["params"].get(params) == simdjson::SUCCESS) {
    for (auto [k, v] : params) {
      double d = 0;
      if (v.get(d) != simdjson::SUCCESS) return make_error(ErrorCode::invalid_argument, "parameter '{}' must be a number", k);
      out.params[std::string(k)] = d;
    }
  }
  return out;
}

std::string ok_json() { return R"({"ok":true})"; }

template <class Fn>
net::HttpResponse bot_route(EngineMailbox& mailbox, const net::HttpRequest& request, Fn fn) {
  auto parsed = parse_bot_request(request.body);
  if (!parsed) return error_response(parsed.error());
  auto answer = mailbox.call<std::string>(
      [req = *parsed, fn](EngineControl& c) -> Result<std::string> { return fn(c, req); }, kEngineAnswer);
  if (!answer) return error_response(answer.error());
  return observe::control_ok(*answer);
}

}  // namespace

std::filesystem::path control_state_dir(const AppOptions& options) {
  const auto state = std::filesystem::path(options.config().data_dir) / "state";
  return options.config().instance.empty() ? state : state / "engines" / options.config().instance;
}

void add_engine_routes(observe::ControlServer& server, EngineMailbox& mailbox) {
  server.get("/status", [&mailbox](const net::HttpRequest&) {
    auto s = mailbox.call<std::string>([](EngineControl& c) -> Result<std::string> { return status_json(c.status()); },
                                       kEngineAnswer);
    return s ? observe::control_ok(*s) : error_response(s.error());
  });
  server.get("/status.txt", [&mailbox](const net::HttpRequest&) {
    auto s = mailbox.call<std::string>([](EngineControl& c) -> Result<std::string> { return format_status(c.status()); },
                                       kEngineAnswer);
    if (!s) return error_response(s.error());
    net::HttpResponse r = observe::control_ok(*s);
    r.content_type = "text/plain; charset=utf-8";
    return r;
  });
  using Req = BotRequest;
  auto simple = [&](std::string path, Status (EngineControl::*op)(std::string_view)) {
    server.post(std::move(path), [&mailbox, op](const net::HttpRequest& r) {
      return bot_route(mailbox, r, [op](EngineControl& c, const Req& req) -> Result<std::string> {
        if (auto ok = (c.*op)(req.bot); !ok) return std::unexpected(ok.error());
        return ok_json();
      });
    });
  };
  simple("/bots/pause", &EngineControl::pause);
  simple("/bots/resume", &EngineControl::resume);
  simple("/bots/stop", &EngineControl::stop_bot);
  server.post("/bots/symbols", [&mailbox](const net::HttpRequest& r) {
    return bot_route(mailbox, r, [](EngineControl& c, const Req& req) -> Result<std::string> {
      if (!req.change) return make_error(ErrorCode::invalid_argument, "give 'set', 'add' or 'remove' with a list of symbols");
      auto symbols = c.change_symbols(req.bot, *req.change, req.symbols);
      if (!symbols) return std::unexpected(symbols.error());
      JsonWriter w;
      w.begin_object().field("ok", true).key("symbols").begin_array();
      for (const auto& s : *symbols) w.value(s);
      w.end_array().end_object();
      return w.take();
    });
  });
  server.post("/bots/params", [&mailbox](const net::HttpRequest& r) {
    return bot_route(mailbox, r, [](EngineControl& c, const Req& req) -> Result<std::string> {
      if (req.params.empty()) return make_error(ErrorCode::invalid_argument, "field 'params' (an object of numbers) is missing or empty");
      if (auto ok = c.set_params(req.bot, req.params); !ok) return std::unexpected(ok.error());
      return ok_json();
    });
  });
}

namespace {

observe::ControlEndpoint find_engine(const AppOptions& options) {
  const auto dir = control_state_dir(options);
  auto endpoint = observe::find_control_endpoint(dir);
  if (endpoint) return *endpoint;
  // Engines that run under an instance name on this data directory.
  const auto engines = std::filesystem::path(options.config().data_dir) / "state" / "engines";
  std::vector<std::string> named;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(engines, ec)) {
    if (observe::find_control_endpoint(e.path())) named.push_back(e.path().filename().string());
  }
  std::sort(named.begin(), named.end());
  if (options.config().instance.empty() && named.size() == 1) {
    if (auto only = observe::find_control_endpoint(engines / named[0])) return *only;
  }
  std::string hint;
  if (!named.empty()) hint = fmt::format("\nengines running there under an instance name: {} (pass --instance NAME)", fmt::join(named, ", "));
  fmt::print(stderr, "error: no running engine found for data directory {}{}: {}{}\n", options.config().data_dir,
             options.config().instance.empty() ? "" : " and instance " + options.config().instance, endpoint.error().message, hint);
  throw CommandFailed{1};
}

// Prints the engine's answer; a refusal is printed on stderr and exits 1.
void call_engine(const AppOptions& options, std::string_view method, std::string_view path, const std::string& body) {
  const auto endpoint = find_engine(options);
  if (method == "POST" && endpoint.token.empty()) {
    fmt::print(stderr, "error: cannot read the engine's control token in {} (run as the engine's user)\n",
               control_state_dir(options).string());
    throw CommandFailed{1};
  }
  auto reply = observe::control_call(endpoint, method, path, body);
  if (!reply) {
    fmt::print(stderr, "error: {}\n", reply.error().message);
    throw CommandFailed{1};
  }
  if (reply->status != 200) {
    std::string message = reply->body;
    simdjson::dom::parser parser;
    simdjson::padded_string json(reply->body);
    std::string_view text;
    if (parser.parse(json)["error"].get(text) == simdjson::SUCCESS) message = std::string(text);
    fmt::print(stderr, "error: the engine refused: {}\n", message);
    throw CommandFailed{1};
  }
  fmt::print("{}{}", reply->body, reply->body.ends_with('\n') ? "" : "\n");
}

struct BotArgs {
  std::string bot;
  std::vector<std::string> set, add, remove;  // comma-separated on the command line
  std::string params;
};

}  // namespace

void add_control_commands(CLI::App& root, AppOptions& options) {
  auto json = std::make_shared<bool>(false);
  auto* status = root.add_subcommand(
      "status", "Print the status report of the engine running on --data-dir (capital, limiter, data, bots)");
  status->add_flag("--json", *json, "Machine-readable output (amounts as exact decimal strings)");
  status->callback([&options, json] { call_engine(options, "GET", *json ? "/status" : "/status.txt", ""); });

  auto* bot = root.add_subcommand("bot", "Steer a bot of the running engine (pause, resume, stop, symbols, params)");
  bot->require_subcommand(1);
  auto body = [](const std::string& name) {
    JsonWriter w;
    w.begin_object().field("bot", name);
    return w;
  };
  for (const char* verb : {"pause", "resume", "stop"}) {
    auto args = std::make_shared<BotArgs>();
    const std::string what = std::string(verb) == "pause"    ? "Stop taking new signals; open positions keep their stops"
                             : std::string(verb) == "resume" ? "Take signals again after a pause"
                                                              : "Stop the bot for the rest of the run (positions keep their stops)";
    auto* cmd = bot->add_subcommand(verb, what);
    cmd->add_option("name", args->bot, "Bot name, as in the config (the demo's are 'single' and 'multi')")->required();
    cmd->callback([&options, args, verb, body] {
      auto w = body(args->bot);
      w.end_object();
      call_engine(options, "POST", std::string("/bots/") + verb, w.take());
    });
  }
  {
    auto args = std::make_shared<BotArgs>();
    auto* cmd = bot->add_subcommand("symbols", "Change a MultiTrader's symbol list while it runs (prints the new list)");
    cmd->add_option("name", args->bot, "Bot name")->required();
    auto* set = cmd->add_option("--set", args->set, "Replace the list, e.g. BTCUSDT,ETHUSDT")->delimiter(',')->type_name("A,B,...");
    auto* add = cmd->add_option("--add", args->add, "Add symbols (warmed up before they trade)")->delimiter(',')->type_name("A,B,...");
    auto* remove = cmd->add_option("--remove", args->remove, "Drop symbols (open positions keep their stops)")->delimiter(',')->type_name("A,B,...");
    set->excludes(add)->excludes(remove);
    add->excludes(remove);
    cmd->callback([&options, args, body] {
      const char* field = !args->set.empty() ? "set" : !args->add.empty() ? "add" : !args->remove.empty() ? "remove" : nullptr;
      if (field == nullptr) {
        fmt::print(stderr, "error: give --set, --add or --remove with a list of symbols\n");
        throw CommandFailed{2};
      }
      auto w = body(args->bot);
      w.key(field).begin_array();
      for (const auto& s : !args->set.empty() ? args->set : !args->add.empty() ? args->add : args->remove) {
        if (!s.empty()) w.value(s);  // "A,,B" as before: empty items are skipped
      }
      w.end_array().end_object();
      call_engine(options, "POST", "/bots/symbols", w.take());
    });
  }
  {
    auto args = std::make_shared<BotArgs>();
    auto* cmd = bot->add_subcommand("params", "Change a bot's strategy parameters while it runs (re-warmed on recent history)");
    cmd->add_option("name", args->bot, "Bot name")->required();
    cmd->add_option("params", args->params, "Parameters, e.g. fast=8,slow=40")->required();
    cmd->callback([&options, args, body] {
      auto params = parse_strategy_params(args->params);
      if (!params) {
        fmt::print(stderr, "error: {}\n", params.error().message);
        throw CommandFailed{2};
      }
      auto w = body(args->bot);
      w.key("params").begin_object();
      for (const auto& [k, v] : *params) w.field(k, v);
      w.end_object().end_object();
      call_engine(options, "POST", "/bots/params", w.take());
    });
  }
}

}  // namespace twinstar
