// Changes to messages: reactions (react, unreact), edits (edit, edit_history) and deletes for
// everyone (delete_message). The checks that need the conversation's state (membership, sender,
// roles, the edit window, the emoji limit) are chat/rules, applied by storage under its lock;
// what needs only the request (emoji, text length) is checked here, before storage.
#include "chat/emoji.hpp"
#include "chat/service.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

namespace confab::chat {
namespace json = boost::json;

namespace {

struct reaction_req {
  std::int64_t conv;
  std::int64_t seq;
  std::string emoji;
};
BOOST_DESCRIBE_STRUCT(reaction_req, (), (conv, seq, emoji))

struct edit_req {
  std::int64_t conv;
  std::int64_t seq;
  std::string text;
};
BOOST_DESCRIBE_STRUCT(edit_req, (), (conv, seq, text))

struct message_req {
  std::int64_t conv;
  std::int64_t seq;
};
BOOST_DESCRIBE_STRUCT(message_req, (), (conv, seq))

json::object change_result(std::int64_t target, const storage::change_ack& a) {
  json::object o{{"conv", a.conv}, {"target", target}, {"ts", a.ts_ms}, {"changed", a.changed}};
  o["seq"] = a.changed ? json::value(a.seq) : json::value(nullptr);
  return o;
}

op_result react(const deps* d, const op_context& c, const reaction_req& r, bool add) {
  if (auto ok = check_emoji(r.emoji); !ok) co_return ok.error();
  auto a = co_await d->store.react(c.who->user_id, c.who->device_id, r.conv, r.seq, r.emoji, add, d->lim.max_reactions_per_message);
  if (!a) co_return a.error();
  co_return change_result(r.seq, *a);
}

}  // namespace

void add_change_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<reaction_req>("react", authed, [d](const op_context& c, const reaction_req& r) { return react(d, c, r, true); });
  t.add<reaction_req>("unreact", authed, [d](const op_context& c, const reaction_req& r) { return react(d, c, r, false); });
  t.add<edit_req>("edit", authed, [d](const op_context& c, const edit_req& r) -> op_result {
    if (r.text.size() > d->lim.max_text_bytes)
      co_return make_error(errc::text_too_long, "text of " + std::to_string(r.text.size()) + " bytes exceeds the limit of " +
                                                    std::to_string(d->lim.max_text_bytes));
    auto a = co_await d->store.edit_message(c.who->user_id, c.who->device_id, r.conv, r.seq, r.text, d->lim.edit_window_ms);
    if (!a) co_return a.error();
    co_return change_result(r.seq, *a);
  });
  t.add<message_req>("delete_message", authed, [d](const op_context& c, const message_req& r) -> op_result {
    auto a = co_await d->store.delete_message(c.who->user_id, c.who->device_id, r.conv, r.seq);
    if (!a) co_return a.error();
    co_return change_result(r.seq, *a);
  });
  t.add<message_req>("edit_history", authed, [d](const op_context& c, const message_req& r) -> op_result {
    auto vs = co_await d->store.edit_history(c.who->user_id, r.conv, r.seq);
    if (!vs) co_return vs.error();
    json::array out;
    for (auto& v : *vs) out.push_back(json::object{{"text", v.text}, {"ts", v.ts_ms}});
    co_return json::object{{"conv", r.conv}, {"seq", r.seq}, {"versions", std::move(out)}};
  });
}

}  // namespace confab::chat
