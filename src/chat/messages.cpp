// Messages: sending (idempotent by client_id) and reading history.
#include "chat/mentions.hpp"
#include "chat/service.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <limits>
#include <random>

namespace confab::chat {
namespace json = boost::json;
using protocol::bytes;
using protocol::int_range;

namespace {

struct send_req {
  std::int64_t conv;
  bytes<1, 64> client_id;
  std::string text;
  std::optional<bytes<1, 128>> content_type;
  std::optional<std::int64_t> reply_to;
  // issue 11, threads and mentions
  std::optional<int_range<1, std::numeric_limits<std::int64_t>::max()>> thread_root;
  std::optional<bool> also_in_conversation;
  std::optional<bool> trace;  // issue 17: record this message's hops (admin_trace)
};
BOOST_DESCRIBE_STRUCT(send_req, (), (conv, client_id, text, content_type, reply_to, thread_root, also_in_conversation, trace))

// issue 17: whether a send is traced without asking (a share p of them).
bool sampled(double p) {
  if (p <= 0) return false;
  thread_local std::minstd_rand rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0, 1)(rng) < p;
}

struct history_req {
  std::int64_t conv;
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;
  std::optional<int_range<1, 100>> limit;
  // issue 13 (jump to a search result): the page around this seq, it included
  std::optional<int_range<1, std::numeric_limits<std::int64_t>::max()>> around;
};
BOOST_DESCRIBE_STRUCT(history_req, (), (conv, before, after, limit, around))

// The page around seq: the older half with seq itself (history below seq + 1), then the newer
// half (above seq). Two reads: a message committed between them only lengthens the newer half,
// which is still seq order.
boost::asio::awaitable<result<json::object>> history_around(const deps* d, id_t user, id_t conv, std::int64_t seq, int limit) {
  auto older = co_await d->store.history(user, conv, seq + 1, std::nullopt, limit - limit / 2);
  if (!older) co_return older.error();
  auto newer = co_await d->store.history(user, conv, std::nullopt, seq, std::max(1, limit / 2));
  if (!newer) co_return newer.error();
  json::array evs;
  for (auto& e : older->events) evs.push_back(protocol::event_object(e));
  const bool more_after = limit / 2 ? newer->has_more : !newer->events.empty();
  if (limit / 2)
    for (auto& e : newer->events) evs.push_back(protocol::event_object(e));
  co_return json::object{{"events", std::move(evs)}, {"has_more_before", older->has_more}, {"has_more_after", more_after}};
}

// issue 11, threads and mentions: a send's thread fields and @mentions (tokenized here, resolved by
// storage under the conversation's lock); for @here, who of the members is online now, asked
// before the store call so that the write does no network I/O.
boost::asio::awaitable<result<nothing>> add_thread_fields(const deps* d, const send_req& r, send_request& req) {
  if (r.also_in_conversation && !r.thread_root)
    co_return make_error(errc::invalid_field, "also_in_conversation needs thread_root");
  if (r.thread_root) req.thread_root = r.thread_root->value;
  req.also_in_conversation = r.also_in_conversation.value_or(false);
  auto m = parse_mentions(r.text);
  if (m.names.size() > max_mentioned_names)
    co_return make_error(errc::invalid_field, "text mentions more than " + std::to_string(max_mentioned_names) + " users");
  req.mention_names = std::move(m.names);
  req.mention_all = m.all;
  req.mention_here = m.here;
  req.wildcard_limit = d->lim.wildcard_mention_limit;
  if (m.here && !m.all) {
    // Not a member (or a retry after leaving): storage answers the send; nobody is online here.
    auto members = co_await d->store.members(req.user, req.conv);
    if (members) {
      std::vector<id_t> ids;
      for (auto& x : *members) ids.push_back(x.user_id);
      auto on = co_await d->live.online(ids);
      for (std::size_t i = 0; i < ids.size() && i < on.size(); ++i)
        if (on[i]) req.online.push_back(ids[i]);
    }
  }
  co_return nothing{};
}

}  // namespace

void add_message_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<send_req>("send", authed, [d](const op_context& c, const send_req& r) -> op_result {
    if (r.text.size() > d->lim.max_text_bytes)
      co_return make_error(errc::text_too_long, "text of " + std::to_string(r.text.size()) + " bytes exceeds the limit of " +
                                                    std::to_string(d->lim.max_text_bytes));
    std::int64_t trace = 0;  // issue 17
    if (r.trace.value_or(false) || sampled(d->lim.trace_sample)) {
      trace = d->live.trace_begin(c.who->user_id, c.who->device_id, r.client_id.value);
      json::object a{{"user", c.who->user_id}, {"device", c.who->device_id}, {"client_id", r.client_id.value}};
      a["via"] = c.via == transport::ws ? "websocket" : "http";
      d->live.trace_hop(trace, "received", std::move(a));
    }
    send_request req{c.who->user_id, c.who->device_id, r.conv, r.client_id.value, r.text,
                     r.content_type ? r.content_type->value : "text/plain", r.reply_to};
    c.trace = trace;
    req.trace = trace;
    // issue 17: a traced send refused after its receipt ends with a "failed" hop (it has no seq).
    auto refused = [&](const error& e) {
      if (!trace) return;
      json::object a;
      a["error"] = std::string(error_name(e.code));
      a["message"] = e.message;
      d->live.trace_hop(trace, "failed", std::move(a));
    };
    if (auto th = co_await add_thread_fields(d, r, req); !th) {  // issue 11
      refused(th.error());
      co_return th.error();
    }
    if (trace) {  // the request passed its checks; the writer takes it next
      json::object a;
      a["mentions"] = req.mention_names.size();
      a["thread"] = req.thread_root.value_or(0);
      d->live.trace_hop(trace, "validated", std::move(a));
    }
    auto ack = co_await d->store.send(req);
    if (!ack) {
      refused(ack.error());
      co_return ack.error();
    }
    json::object out{{"conv", ack->conv}, {"seq", ack->seq}, {"ts", ack->ts_ms}, {"duplicate", ack->duplicate}};
    if (trace) {
      json::object a;
      a["conv"] = ack->conv;
      a["seq"] = ack->seq;
      a["duplicate"] = ack->duplicate;
      d->live.trace_hop(trace, "acked", std::move(a));
      out["trace_id"] = trace;
    }
    co_return out;
  });
  t.add<history_req>("history", authed, [d](const op_context& c, const history_req& r) -> op_result {
    if (r.before && r.after) co_return make_error(errc::invalid_field, "give before or after, not both");
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 50;
    if (r.around) {
      if (r.before || r.after) co_return make_error(errc::invalid_field, "give around alone, without before or after");
      auto page = co_await history_around(d, c.who->user_id, r.conv, r.around->value, limit);
      if (!page) co_return page.error();
      co_return std::move(*page);
    }
    auto page = co_await d->store.history(c.who->user_id, r.conv, r.before, r.after, limit);
    if (!page) co_return page.error();
    json::array evs;
    for (auto& e : page->events) evs.push_back(protocol::event_object(e));
    co_return json::object{{"events", std::move(evs)}, {"has_more", page->has_more}};
  });
}

}  // namespace confab::chat
