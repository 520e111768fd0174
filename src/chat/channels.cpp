// Channels (issue 12, docs/protocol.md section 6.4): creating one, the directory of public
// channels, joining, the heads a device resumes from, and the paged member list. Leaving is the
// conversations' `leave`; inviting to a private channel is `add_members`.
#include "chat/profiles.hpp"
#include "chat/service.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

namespace confab::chat {
namespace json = boost::json;
using protocol::bytes;
using protocol::int_range;

namespace {

struct create_channel_req {
  bytes<1, 200> title;
  std::optional<bytes<0, 500>> topic;
  std::string visibility;
};
BOOST_DESCRIBE_STRUCT(create_channel_req, (), (title, topic, visibility))

struct directory_req {
  std::optional<bytes<1, 100>> query;
  std::optional<int_range<1, 100>> limit;
  std::optional<bytes<1, 200>> after_title;
  std::optional<std::int64_t> after_conv;
};
BOOST_DESCRIBE_STRUCT(directory_req, (), (query, limit, after_title, after_conv))

struct channel_req {
  std::int64_t conv;
};
BOOST_DESCRIBE_STRUCT(channel_req, (), (conv))

struct heads_req {
  std::optional<std::int64_t> after_conv;
  std::optional<int_range<1, 1000>> limit;
};
BOOST_DESCRIBE_STRUCT(heads_req, (), (after_conv, limit))

struct channel_members_req {
  std::int64_t conv;
  std::optional<std::int64_t> after_user;
  std::optional<int_range<1, 100>> limit;
};
BOOST_DESCRIBE_STRUCT(channel_members_req, (), (conv, after_user, limit))

json::object to_json(const storage::channel_record& ch) {
  return {{"conv", ch.conv},
          {"title", ch.title},
          {"topic", ch.topic},
          {"visibility", ch.is_public ? "public" : "private"},
          {"member_count", ch.member_count},
          {"last_seq", ch.last_seq},
          {"last_ts", ch.last_ms},
          {"joined", ch.joined}};
}

}  // namespace

void add_channel_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<create_channel_req>("create_channel", authed, [d](const op_context& c, const create_channel_req& r) -> op_result {
    if (r.visibility != "public" && r.visibility != "private")
      co_return make_error(errc::invalid_field, "field visibility must be \"public\" or \"private\"");
    const std::string topic = r.topic ? r.topic->value : std::string{};
    auto conv = co_await d->store.create_channel(c.who->user_id, c.who->device_id, r.title.value, topic, r.visibility == "public");
    if (!conv) co_return conv.error();
    co_return json::object{{"conv", *conv}};
  });
  t.add<directory_req>("channels", authed, [d](const op_context& c, const directory_req& r) -> op_result {
    if (r.after_title.has_value() != r.after_conv.has_value())
      co_return make_error(errc::invalid_field, "give both after_title and after_conv");
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 50;
    storage::directory_cursor cur;
    if (r.after_title) cur = {r.after_title->value, *r.after_conv};
    const std::string q = r.query ? r.query->value : std::string{};
    auto list = co_await d->store.channel_directory(c.who->user_id, q, cur, limit);
    if (!list) co_return list.error();
    json::array out;
    for (auto& ch : *list) out.push_back(to_json(ch));
    json::value next = nullptr;
    if (static_cast<int>(list->size()) == limit)
      next = json::object{{"after_title", list->back().title}, {"after_conv", list->back().conv}};
    co_return json::object{{"channels", std::move(out)}, {"next", next}};
  });
  t.add<channel_req>("channel", authed, [d](const op_context& c, const channel_req& r) -> op_result {
    auto ch = co_await d->store.channel(c.who->user_id, r.conv);
    if (!ch) co_return ch.error();
    co_return to_json(*ch);
  });
  t.add<channel_req>("join_channel", authed, [d](const op_context& c, const channel_req& r) -> op_result {
    auto seq = co_await d->store.join_channel(c.who->user_id, c.who->device_id, r.conv);
    if (!seq) co_return seq.error();
    co_return json::object{{"conv", r.conv}, {"seq", *seq}};
  });
  t.add<heads_req>("channel_heads", authed, [d](const op_context& c, const heads_req& r) -> op_result {
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 1000;
    auto heads = co_await d->store.channel_heads(c.who->user_id, r.after_conv.value_or(0), limit);
    if (!heads) co_return heads.error();
    json::array out;
    out.reserve(heads->size());
    for (auto& h : *heads)
      out.push_back(json::object{{"conv", h.conv}, {"last_seq", h.last_seq}, {"read_seq", h.read_seq}, {"joined_seq", h.joined_seq}});
    json::value next = nullptr;
    if (static_cast<int>(heads->size()) == limit) next = json::object{{"after_conv", heads->back().conv}};
    co_return json::object{{"heads", std::move(out)}, {"next", next}};
  });
  t.add<channel_members_req>("channel_members", authed, [d](const op_context& c, const channel_members_req& r) -> op_result {
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 50;
    auto page = co_await d->store.channel_members(c.who->user_id, r.conv, r.after_user.value_or(0), limit);
    if (!page) co_return page.error();
    json::array out;
    for (auto& m : page->members) out.push_back(protocol::to_json(m));
    const auto objs = objects_of(out);
    if (auto n = co_await add_display_names(d->store, objs); !n) co_return n.error();
    json::value next = nullptr;
    if (static_cast<int>(page->members.size()) == limit) next = json::object{{"after_user", page->members.back().user_id}};
    co_return json::object{{"members", std::move(out)}, {"member_count", page->member_count}, {"next", next}};
  });
}

}  // namespace confab::chat
