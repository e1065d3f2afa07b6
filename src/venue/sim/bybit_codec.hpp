#pragma once
// Encoders for Bybit v5 payloads as the sim sends them: the REST envelope, kline rows and
// pushes, WebSocket op replies, and the private topics. Key order follows Bybit's documented
// samples (exchange-api.md §1), so golden tests compare whole strings.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/candle.hpp"
#include "core/json_writer.hpp"
#include "venue/sim/exchange.hpp"

namespace twinstar::venue::sim {

enum class WsChannel { linear, spot, private_, trade };

// {"retCode":0,"retMsg":"OK","result":<result_json>,"retExtInfo":{},"time":T}
std::string rest_ok(std::string_view result_json, std::int64_t time_ms);
// {"retCode":C,"retMsg":M,"result":{},"retExtInfo":{},"time":T}
std::string rest_error(int ret_code, std::string_view ret_msg, std::int64_t time_ms);

// {"symbol":..,"category":..,"list":[[start,open,high,low,close,volume,turnover],...]}
std::string kline_result(std::string_view symbol, std::string_view category, std::span<const Candle> newest_first);
// {"topic":..,"data":[{start,end,interval,open,close,high,low,volume,turnover,confirm,timestamp}],"ts":..,"type":"snapshot"}
std::string kline_push(std::string_view topic, std::string_view interval, const Candle& c, std::int64_t end_ms,
                       std::int64_t timestamp_ms);

// Replies to subscribe/unsubscribe/ping/auth and errors, in each channel's documented shape.
// Linear: {"success","ret_msg","conn_id","req_id","op"} (req_id always present).
// Spot: the same, req_id only when the request had one. Private: {"success","ret_msg","op","conn_id"} (+req_id).
std::string ws_op_reply(WsChannel channel, bool success, std::string_view ret_msg, std::string_view conn_id,
                        std::optional<std::string_view> req_id, std::string_view op);
// Private pong: {"req_id":..,"op":"pong","args":["<ms>"],"conn_id":..}
std::string ws_private_pong(std::optional<std::string_view> req_id, std::int64_t now_ms, std::string_view conn_id);

// Order entry (/v5/trade) replies: {"reqId"?,"retCode","retMsg","op","data"?,"header"?,"connId"}.
// `data_json` and `header_json` are raw objects, left out when empty; reqId only when given.
std::string ws_trade_reply(std::optional<std::string_view> req_id, int ret_code, std::string_view ret_msg, std::string_view op,
                           std::string_view data_json, std::string_view header_json, std::string_view conn_id);

// Private REST objects and pushes.
void write_order(JsonWriter& w, const Order& o, std::string_view symbol);
void write_execution(JsonWriter& w, const Execution& e, std::string_view symbol);
void write_position(JsonWriter& w, const Position& p, std::string_view symbol, Price mark, Money unrealised,
                    int leverage);
void write_wallet(JsonWriter& w, const Exchange::WalletView& v, std::int64_t now_ms);
// {"id":..,"topic":..,"creationTime":..,"data":[ <data_items> ]}
std::string private_push(std::string_view id, std::string_view topic, std::int64_t creation_ms,
                         std::string_view data_items);

}  // namespace twinstar::venue::sim
