#include "venue/sim/bybit_codec.hpp"

namespace twinstar::venue::sim {

std::string rest_ok(std::string_view result_json, std::int64_t time_ms) {
  std::string out;
  out.reserve(result_json.size() + 80);
  out += R"({"retCode":0,"retMsg":"OK","result":)";
  out += result_json;
  out += R"(,"retExtInfo":{},"time":)";
  out += std::to_string(time_ms);
  out += '}';
  return out;
}

std::string rest_error(int ret_code, std::string_view ret_msg, std::int64_t time_ms) {
  JsonWriter w;
  w.begin_object().field("retCode", ret_code).field("retMsg", ret_msg);
  w.key("result").begin_object().end_object();
  w.key("retExtInfo").begin_object().end_object();
  w.field("time", time_ms).end_object();
  return w.take();
}

std::string kline_result(std::string_view symbol, std::string_view category, std::span<const Candle> rows) {
  JsonWriter w;
  w.begin_object().field("symbol", symbol).field("category", category).key("list").begin_array();
  for (const Candle& c : rows) {
    w.begin_array();
    w.value(std::to_string(to_epoch_ms(c.open_time)));
    w.value(c.open).value(c.high).value(c.low).value(c.close).value(c.volume).value(c.turnover);
    w.end_array();
  }
  w.end_array().end_object();
  return w.take();
}

std::string kline_push(std::string_view topic, std::string_view interval, const Candle& c, std::int64_t end_ms,
                       std::int64_t timestamp_ms) {
  JsonWriter w;
  w.begin_object().field("topic", topic).key("data").begin_array().begin_object();
  w.field("start", to_epoch_ms(c.open_time)).field("end", end_ms).field("interval", interval);
  w.field("open", c.open).field("close", c.close).field("high", c.high).field("low", c.low);
  w.field("volume", c.volume).field("turnover", c.turnover);
  w.field("confirm", c.closed).field("timestamp", timestamp_ms);
  w.end_object().end_array();
  w.field("ts", timestamp_ms).field("type", "snapshot").end_object();
  return w.take();
}

std::string ws_op_reply(WsChannel channel, bool success, std::string_view ret_msg, std::string_view conn_id,
                        std::optional<std::string_view> req_id, std::string_view op) {
  JsonWriter w;
  w.begin_object().field("success", success).field("ret_msg", ret_msg);
  if (channel == WsChannel::private_) {
    if (req_id) w.field("req_id", *req_id);
    w.field("op", op).field("conn_id", conn_id);
  } else {
    w.field("conn_id", conn_id);
    if (channel == WsChannel::linear) {
      w.field("req_id", req_id.value_or(""));
    } else if (req_id) {
      w.field("req_id", *req_id);
    }
    w.field("op", op);
  }
  w.end_object();
  return w.take();
}

std::string ws_private_pong(std::optional<std::string_view> req_id, std::int64_t now_ms, std::string_view conn_id) {
  JsonWriter w;
  w.begin_object().field("req_id", req_id.value_or("")).field("op", "pong");
  w.key("args").begin_array().value(std::to_string(now_ms)).end_array();
  w.field("conn_id", conn_id).end_object();
  return w.take();
}

std::string ws_trade_reply(std::optional<std::string_view> req_id, int ret_code, std::string_view ret_msg, std::string_view op,
                           std::string_view data_json, std::string_view header_json, std::string_view conn_id) {
  JsonWriter w;
  w.begin_object();
  if (req_id) w.field("reqId", *req_id);
  w.field("retCode", ret_code).field("retMsg", ret_msg).field("op", op);
  if (!data_json.empty()) w.key("data").raw(data_json);
  if (!header_json.empty()) w.key("header").raw(header_json);
  w.field("connId", conn_id).end_object();
  return w.take();
}

namespace {
std::string ms(TimestampMs t) { return std::to_string(to_epoch_ms(t)); }
std::string price_or_empty(Price p) { return p.is_zero() ? std::string() : p.to_string(); }
}  // namespace

void write_order(JsonWriter& w, const Order& o, std::string_view symbol) {
  w.begin_object();
  w.field("category", to_string(o.category)).field("symbol", symbol);
  w.field("orderId", o.order_id).field("orderLinkId", o.order_link_id);
  w.field("blockTradeId", "").field("side", to_string(o.side));
  w.field("positionIdx", 0).field("orderStatus", to_string(o.status));
  w.field("cancelType", o.cancel_type).field("rejectReason", o.reject_reason);
  w.field("avgPrice", price_or_empty(o.avg_price));
  w.field("leavesQty", o.is_open() ? o.leaves().to_string() : std::string("0"));
  w.field("leavesValue", o.is_open() ? notional(o.price, o.leaves()).to_string() : std::string("0"));
  w.field("cumExecQty", o.cum_qty).field("cumExecValue", o.cum_value).field("cumExecFee", o.cum_fee);
  w.field("timeInForce", to_string(o.tif)).field("orderType", to_string(o.type));
  w.field("stopOrderType", "").field("orderIv", "").field("triggerPrice", "").field("takeProfit", "").field("stopLoss", "");
  w.field("tpTriggerBy", "").field("slTriggerBy", "").field("triggerDirection", 0).field("triggerBy", "");
  w.field("lastPriceOnCreated", o.last_price_on_created);
  w.field("reduceOnly", o.reduce_only).field("closeOnTrigger", false).field("placeType", "");
  w.field("smpType", "None").field("smpGroup", 0).field("smpOrderId", "");
  w.field("tpslMode", "").field("tpLimitPrice", "").field("slLimitPrice", "");
  w.field("price", o.type == OrderType::limit ? o.price.to_string() : std::string("0"));
  w.field("qty", o.qty);
  w.field("createdTime", ms(o.created)).field("updatedTime", ms(o.updated));
  w.end_object();
}

void write_execution(JsonWriter& w, const Execution& e, std::string_view symbol) {
  w.begin_object();
  w.field("category", to_string(e.category)).field("symbol", symbol);
  w.field("execFee", e.exec_fee).field("execId", e.exec_id).field("execPrice", e.exec_price);
  w.field("execQty", e.exec_qty).field("execType", "Trade").field("execValue", e.exec_value);
  w.field("isMaker", e.is_maker).field("feeRate", e.fee_rate);
  w.field("tradeIv", "").field("markIv", "").field("blockTradeId", "");
  w.field("markPrice", e.exec_price).field("indexPrice", "").field("underlyingPrice", "");
  w.field("leavesQty", e.leaves_qty).field("orderId", e.order_id).field("orderLinkId", e.order_link_id);
  w.field("orderPrice", e.order_type == OrderType::limit ? e.order_price.to_string() : std::string("0"));
  w.field("orderQty", e.order_qty).field("orderType", to_string(e.order_type));
  w.field("stopOrderType", "UNKNOWN").field("side", to_string(e.side));
  w.field("execTime", ms(e.exec_time)).field("isLeverage", "0");
  w.field("closedSize", e.closed_size.is_zero() ? std::string() : e.closed_size.to_string());
  w.field("seq", e.seq);
  w.end_object();
}

void write_position(JsonWriter& w, const Position& p, std::string_view symbol, Price mark, Money unrealised,
                    int leverage) {
  const Money value = notional(p.entry, p.size);
  w.begin_object();
  w.field("positionIdx", 0).field("tradeMode", 0).field("riskId", 1).field("riskLimitValue", "2000000");
  w.field("symbol", symbol).field("side", p.size.is_zero() ? std::string_view("") : to_string(p.side));
  w.field("size", p.size).field("entryPrice", p.entry).field("avgPrice", p.entry);
  w.field("leverage", std::to_string(leverage)).field("positionValue", value);
  w.field("positionBalance", value.divided_by(leverage)).field("markPrice", mark);
  w.field("positionIM", value.divided_by(leverage)).field("positionMM", value.divided_by(200));
  w.field("takeProfit", "0").field("stopLoss", "0").field("trailingStop", "0");
  w.field("unrealisedPnl", unrealised).field("cumRealisedPnl", p.cum_realised);
  w.field("createdTime", ms(p.created)).field("updatedTime", ms(p.updated));
  w.field("tpslMode", "Full").field("liqPrice", "").field("bustPrice", "").field("category", "linear");
  w.field("positionStatus", "Normal").field("adlRankIndicator", p.size.is_zero() ? 0 : 2);
  w.field("autoAddMargin", 0).field("seq", p.seq).field("isReduceOnly", false);
  w.end_object();
}

void write_wallet(JsonWriter& w, const Exchange::WalletView& v, std::int64_t now_ms) {
  (void)now_ms;
  w.begin_object();
  w.field("accountType", "UNIFIED").field("accountIMRate", "0").field("accountMMRate", "0").field("accountLTV", "0");
  w.field("totalEquity", v.equity).field("totalWalletBalance", v.wallet).field("totalMarginBalance", v.wallet + v.unrealised);
  w.field("totalAvailableBalance", v.available).field("totalPerpUPL", v.unrealised);
  w.field("totalInitialMargin", v.position_im + v.order_im).field("totalMaintenanceMargin", v.position_im.divided_by(20));
  w.key("coin").begin_array();
  w.begin_object();
  w.field("coin", "USDT").field("equity", v.wallet + v.unrealised).field("usdValue", v.wallet + v.unrealised);
  w.field("walletBalance", v.wallet).field("availableToWithdraw", v.available).field("availableToBorrow", "");
  w.field("borrowAmount", "0").field("accruedInterest", "0");
  w.field("totalOrderIM", v.order_im).field("totalPositionIM", v.position_im).field("totalPositionMM", v.position_im.divided_by(20));
  w.field("unrealisedPnl", v.unrealised).field("cumRealisedPnl", "0").field("bonus", "0");
  w.field("collateralSwitch", true).field("marginCollateral", true).field("locked", "0").field("spotHedgingQty", "0");
  w.end_object();
  for (const auto& [coin, qty] : v.coins) {
    w.begin_object();
    w.field("coin", coin).field("equity", qty).field("usdValue", "").field("walletBalance", qty);
    w.field("availableToWithdraw", qty).field("availableToBorrow", "").field("borrowAmount", "0");
    w.field("accruedInterest", "0").field("totalOrderIM", "0").field("totalPositionIM", "0").field("totalPositionMM", "0");
    w.field("unrealisedPnl", "0").field("cumRealisedPnl", "0").field("bonus", "0");
    w.field("collateralSwitch", true).field("marginCollateral", true).field("locked", "0").field("spotHedgingQty", "0");
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

std::string private_push(std::string_view id, std::string_view topic, std::int64_t creation_ms,
                         std::string_view data_items) {
  std::string out;
  out.reserve(data_items.size() + 96);
  out += R"({"id":)";
  append_json_string(out, id);
  out += R"(,"topic":)";
  append_json_string(out, topic);
  out += R"(,"creationTime":)";
  out += std::to_string(creation_ms);
  out += R"(,"data":[)";
  out += data_items;
  out += "]}";
  return out;
}

}  // namespace twinstar::venue::sim
