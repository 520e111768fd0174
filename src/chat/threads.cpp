// Threads and mentions (issue 11): a thread's replies, the followed threads, follow/unfollow, the
// per-thread read pointer, and the messages that mention the caller. Replies themselves are sent
// with send (messages.cpp: thread_root); storage keeps the summaries (store_threads.cpp).
#include "chat/pages.hpp"
#include "chat/service.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

#include <limits>

namespace confab::chat {
namespace json = boost::json;
using protocol::bytes;
using protocol::int_range;

namespace {

constexpr std::int64_t max_i64 = std::numeric_limits<std::int64_t>::max();

struct thread_req {
  std::int64_t conv;
  int_range<1, max_i64> root;
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;
  std::optional<int_range<1, 100>> limit;
};
BOOST_DESCRIBE_STRUCT(thread_req, (), (conv, root, before, after, limit))

struct list_req {
  std::optional<bytes<1, 64>> before;  // the cursor from a previous page's next
  std::optional<int_range<1, 100>> limit;
};
BOOST_DESCRIBE_STRUCT(list_req, (), (before, limit))

struct root_req {
  std::int64_t conv;
  int_range<1, max_i64> root;
};
BOOST_DESCRIBE_STRUCT(root_req, (), (conv, root))

struct read_thread_req {
  std::int64_t conv;
  int_range<1, max_i64> root;
  int_range<0, max_i64> seq;
};
BOOST_DESCRIBE_STRUCT(read_thread_req, (), (conv, root, seq))

json::object state_json(const storage::thread_state& s) {
  return {{"conv", s.conv}, {"root", s.root}, {"following", s.following}, {"read_seq", s.read_seq}, {"unread", s.unread}};
}

}  // namespace

void add_thread_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<thread_req>("thread", authed, [d](const op_context& c, const thread_req& r) -> op_result {
    if (r.before && r.after) co_return make_error(errc::invalid_field, "give before or after, not both");
    const int limit = r.limit ? static_cast<int>(r.limit->value) : 50;
    auto page = co_await d->store.thread(c.who->user_id, r.conv, r.root.value, r.before, r.after, limit);
    if (!page) co_return page.error();
    json::array replies;
    for (auto& e : page->replies) replies.push_back(protocol::event_object(e));
    co_return json::object{{"root", protocol::event_object(page->root)}, {"replies", std::move(replies)}, {"has_more", page->has_more}};
  });
  t.add<list_req>("threads", authed, [d](const op_context& c, const list_req& r) -> op_result {
    auto cur = parse_cursor(r.before);
    if (!cur) co_return cur.error();
    auto page = co_await d->store.threads(c.who->user_id, *cur, r.limit ? static_cast<int>(r.limit->value) : 20);
    if (!page) co_return page.error();
    co_return list_json("threads", *page);
  });
  for (bool follow : {true, false}) {
    t.add<root_req>(follow ? "follow_thread" : "unfollow_thread", authed, [d, follow](const op_context& c, const root_req& r) -> op_result {
      auto st = co_await d->store.follow_thread(c.who->user_id, r.conv, r.root.value, follow);
      if (!st) co_return st.error();
      co_return state_json(*st);
    });
  }
  t.add<read_thread_req>("read_thread", authed, [d](const op_context& c, const read_thread_req& r) -> op_result {
    auto st = co_await d->store.read_thread(c.who->user_id, r.conv, r.root.value, r.seq.value);
    if (!st) co_return st.error();
    co_return state_json(*st);
  });
  t.add<list_req>("mentions", authed, [d](const op_context& c, const list_req& r) -> op_result {
    auto cur = parse_cursor(r.before);
    if (!cur) co_return cur.error();
    auto page = co_await d->store.mentions(c.who->user_id, *cur, r.limit ? static_cast<int>(r.limit->value) : 20);
    if (!page) co_return page.error();
    co_return list_json("mentions", *page);
  });
}

}  // namespace confab::chat
