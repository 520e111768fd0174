// The store's thread and mention operations (issue 11): a thread's replies page by page, the
// followed threads, follow/unfollow, the per-thread read pointer and the mentions list. The send
// path's part (checks, derived rows, decoration) is store_threads.cpp.
#include "storage/store_detail.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace confab::storage {
using namespace detail;

namespace {

constexpr std::int64_t max_i64 = std::numeric_limits<std::int64_t>::max();

// The highest seq the user may read in conv (history's rules): forbidden if never a member.
result<std::int64_t> readable_upto(connection& c, id_t conv, id_t user) {
  CONFAB_TRY(m, load_membership(c, conv, user));
  if (m->role == conv_role::none) return make_error(errc::forbidden, "not a member of this conversation");
  return m->left_seq.value_or(max_i64);
}

// The root event (within upper): a message of this conversation that is not itself a reply.
result<event> load_root(connection& c, id_t conv, std::int64_t root, std::int64_t upper) {
  CONFAB_TRY(r, query(c, "SELECT " + std::string(event_cols) + " FROM events WHERE conv_id = $1 AND seq = $2", {conv, root}));
  if (r->empty() || root > upper) return make_error(errc::not_found, "root is not an event of this conversation");
  CONFAB_TRY(ev, to_event((*r)[0]));
  if (ev->kind != event_kind::message) return make_error(errc::invalid_field, "root must be a message");
  if (ev->thread_root) return make_error(errc::invalid_field, "root is a thread reply, not a root (threads are one level)");
  return std::move(*ev);
}

result<thread_state> load_state(connection& c, id_t user, id_t conv, std::int64_t root) {
  thread_state st{conv, root, false, 0, 0};
  CONFAB_TRY(r, query(c,
                      "SELECT f.following, f.read_seq, CASE WHEN f.following = 1 THEN (SELECT COUNT(*) FROM events e "
                      "WHERE e.conv_id = f.conv_id AND e.thread_root = f.root_seq AND e.seq > f.read_seq AND e.sender_id <> f.user_id) "
                      "ELSE 0 END FROM thread_users f WHERE f.user_id = $1 AND f.conv_id = $2 AND f.root_seq = $3",
                      {user, conv, root}));
  if (!r->empty()) {
    st.following = (*r)[0].i64(0) != 0;
    st.read_seq = (*r)[0].i64(1);
    st.unread = (*r)[0].i64(2);
  }
  return st;
}

}  // namespace

namespace detail {
result<std::vector<event>> events_at(connection& c, const std::vector<std::pair<id_t, std::int64_t>>& keys) {
  std::vector<event> out;
  if (keys.empty()) return out;
  std::vector<param> ps;
  const std::string keyed = pair_table(ps, keys);
  auto r = c.query("SELECT " + event_cols_of("e") + " FROM events e JOIN " + keyed + " k ON e.conv_id = k.column1 AND e.seq = k.column2", ps);
  if (!r) return to_error(r.error());
  std::map<std::pair<id_t, std::int64_t>, event> got;
  for (auto& x : *r) {
    CONFAB_TRY(ev, to_event(x));
    got.emplace(std::pair{ev->conv, ev->seq}, std::move(*ev));
  }
  for (auto& k : keys)
    if (auto it = got.find(k); it != got.end()) out.push_back(std::move(it->second));
  return out;
}

result<event_list_page> keyset_page(connection& c, id_t viewer, const rows& r, int limit) {
  event_list_page page;
  std::vector<std::pair<id_t, std::int64_t>> keys;
  for (std::size_t i = 0; i < r.size() && static_cast<int>(i) < limit; ++i) keys.emplace_back(r[i].i64(0), r[i].i64(1));
  if (static_cast<int>(r.size()) > limit) {
    const auto& last = r[static_cast<std::size_t>(limit) - 1];
    page.next = keyset_cursor{last.i64(2), last.i64(0), last.i64(1)};
  }
  CONFAB_TRY(evs, events_at(c, keys));
  page.events = std::move(*evs);
  CONFAB_TRY(d, decorate(c, viewer, page.events));
  return page;
}

std::string before_cursor(std::string_view ms, std::string_view conv, std::string_view seq, int first) {
  const auto a = "$" + std::to_string(first), b = "$" + std::to_string(first + 1), s = "$" + std::to_string(first + 2);
  const std::string m(ms), cv(conv), sq(seq);
  return "(" + m + " < " + a + " OR (" + m + " = " + a + " AND (" + cv + " < " + b + " OR (" + cv + " = " + b + " AND " + sq + " < " +
         s + "))))";
}
}  // namespace detail

task<thread_page> store::thread(id_t user, id_t conv, std::int64_t root, std::optional<std::int64_t> before,
                                std::optional<std::int64_t> after, int limit) {
  return ex_->read<thread_page>([=](connection& c) -> result<thread_page> {
    CONFAB_TRY(upper, readable_upto(c, conv, user));
    CONFAB_TRY(rt, load_root(c, conv, root, *upper));
    thread_page page;
    page.root = std::move(*rt);
    const std::int64_t n = limit + 1;
    // The page's seqs from the thread's index (covering), then their rows by primary key: asked
    // for whole rows at once, SQLite walks the conversation's primary key instead, reading every
    // event of the conversation between the bounds (the index alone reads one page).
    const std::string outer = "SELECT " + std::string(event_cols) + " FROM events WHERE conv_id = $1 AND seq IN ";
    db_result<rows> r;
    if (after) {
      r = query(c,
                outer + "(SELECT seq FROM events WHERE conv_id = $1 AND thread_root = $2 AND seq > $3 AND seq <= $4 "
                        "ORDER BY seq ASC LIMIT $5) ORDER BY seq ASC",
                {conv, root, *after, *upper, n});
    } else {
      // One upper bound (see history): the replies just below before, or the latest.
      std::int64_t below = *upper == max_i64 ? max_i64 : *upper + 1;
      if (before) below = std::min(below, *before);
      r = query(c,
                outer + "(SELECT seq FROM events WHERE conv_id = $1 AND thread_root = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4) "
                        "ORDER BY seq DESC",
                {conv, root, below, n});
    }
    if (!r) return to_error(r.error());
    page.has_more = static_cast<int>(r->size()) > limit;
    for (std::size_t i = 0; i < r->size() && static_cast<int>(i) < limit; ++i) {
      CONFAB_TRY(ev, to_event((*r)[i]));
      page.replies.push_back(std::move(*ev));
    }
    if (!after) std::reverse(page.replies.begin(), page.replies.end());
    // The root and the replies as they are now (edits and deletes are in the rows).
    std::vector<event*> all{&page.root};
    for (auto& e : page.replies) all.push_back(&e);
    CONFAB_TRY(d, decorate(c, user, all));
    return page;
  });
}

task<event_list_page> store::threads(id_t user, std::optional<keyset_cursor> before, int limit) {
  return ex_->read<event_list_page>([=](connection& c) -> result<event_list_page> {
    const keyset_cursor cur = before.value_or(keyset_cursor{max_i64, max_i64, max_i64});
    CONFAB_TRY(r, query(c,
                        "SELECT f.conv_id, f.root_seq, t.last_ms FROM thread_users f "
                        "JOIN threads t ON t.conv_id = f.conv_id AND t.root_seq = f.root_seq "
                        "JOIN members m ON m.conv_id = f.conv_id AND m.user_id = f.user_id AND m.left_seq IS NULL "
                        "WHERE f.user_id = $1 AND f.following = 1 AND " +
                            before_cursor("t.last_ms", "f.conv_id", "f.root_seq", 2) +
                            " ORDER BY t.last_ms DESC, f.conv_id DESC, f.root_seq DESC LIMIT $5",
                        {user, cur.ms, cur.conv, cur.seq, std::int64_t{limit} + 1}));
    return keyset_page(c, user, *r, limit);
  });
}

task<thread_state> store::follow_thread(id_t user, id_t conv, std::int64_t root, bool follow) {
  return ex_->write<thread_state>([=](write_context& ctx) -> result<thread_state> {
    auto& c = ctx.db;
    CONFAB_TRY(m, require_active(c, conv, user));
    CONFAB_TRY(rt, load_root(c, conv, root, max_i64));
    CONFAB_TRY(up, query(c,
                         "INSERT INTO thread_users (user_id, conv_id, root_seq, following, read_seq) VALUES ($1, $2, $3, $4, 0) "
                         "ON CONFLICT (user_id, conv_id, root_seq) DO UPDATE SET following = excluded.following",
                         {user, conv, root, std::int64_t{follow ? 1 : 0}}));
    return load_state(c, user, conv, root);
  });
}

task<thread_state> store::read_thread(id_t user, id_t conv, std::int64_t root, std::int64_t seq) {
  return ex_->write<thread_state>([=](write_context& ctx) -> result<thread_state> {
    auto& c = ctx.db;
    CONFAB_TRY(m, require_active(c, conv, user));
    CONFAB_TRY(rt, load_root(c, conv, root, max_i64));
    const std::int64_t target = std::min(seq, m->last_seq);
    CONFAB_TRY(up, query(c,
                         "INSERT INTO thread_users (user_id, conv_id, root_seq, following, read_seq) VALUES ($1, $2, $3, 0, $4) "
                         "ON CONFLICT (user_id, conv_id, root_seq) DO UPDATE SET "
                         "read_seq = CASE WHEN thread_users.read_seq < excluded.read_seq THEN excluded.read_seq ELSE thread_users.read_seq END",
                         {user, conv, root, target}));
    return load_state(c, user, conv, root);
  });
}

task<event_list_page> store::mentions(id_t user, std::optional<keyset_cursor> before, int limit) {
  return ex_->read<event_list_page>([=](connection& c) -> result<event_list_page> {
    const keyset_cursor cur = before.value_or(keyset_cursor{max_i64, max_i64, max_i64});
    // Within history's reach: a former member keeps the mentions up to their removal.
    CONFAB_TRY(r, query(c,
                        "SELECT mn.conv_id, mn.seq, mn.ts_ms FROM mentions mn "
                        "JOIN members m ON m.conv_id = mn.conv_id AND m.user_id = mn.user_id "
                        "WHERE mn.user_id = $1 AND (m.left_seq IS NULL OR mn.seq <= m.left_seq) AND " +
                            before_cursor("mn.ts_ms", "mn.conv_id", "mn.seq", 2) +
                            " ORDER BY mn.ts_ms DESC, mn.conv_id DESC, mn.seq DESC LIMIT $5",
                        {user, cur.ms, cur.conv, cur.seq, std::int64_t{limit} + 1}));
    return keyset_page(c, user, *r, limit);
  });
}

}  // namespace confab::storage
