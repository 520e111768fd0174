// Messages: sending (idempotent by client_id) and reading history.
#include "chat/service.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

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
};
BOOST_DESCRIBE_STRUCT(send_req, (), (conv, client_id, text, content_type, reply_to))

struct history_req {
  std::int64_t conv;
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;
  std::optional<int_range<1, 100>> limit;
};
BOOST_DESCRIBE_STRUCT(history_req, (), (conv, before, after, limit))

}  // namespace

void add_message_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<send_req>("send", authed, [d](const op_context& c, const send_req& r) -> op_result {
    if (r.text.size() > d->lim.max_text_bytes)
      co_return make_error(errc::text_too_long, "text of " + std::to_string(r.text.size()) + " bytes exceeds the limit of " +
                                                    std::to_string(d->lim.max_text_bytes));
    send_request req{c.who->user_id, c.who->device_id, r.conv, r.client_id.value, r.text,
                     r.content_type ? r.content_type->value : "text/plain", r.reply_to};
    auto ack = co_await d->store.send(req);
    if (!ack) co_return ack.error();
    co_return json::object{{"conv", ack->conv}, {"seq", ack->seq}, {"ts", ack->ts_ms}, {"duplicate", ack->duplicate}};
  });
  t.add<history_req>("history", authed, [d](const op_context& c, const history_req& r) -> op_result {
    if (r.before && r.after) co_return make_error(errc::invalid_field, "give before or after, not both");
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 50;
    auto page = co_await d->store.history(c.who->user_id, r.conv, r.before, r.after, limit);
    if (!page) co_return page.error();
    json::array evs;
    for (auto& e : page->events) evs.push_back(protocol::event_object(e));
    co_return json::object{{"events", std::move(evs)}, {"has_more", page->has_more}};
  });
}

}  // namespace confab::chat
