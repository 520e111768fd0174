// The search index (issue 13): kept from the event feed, read by the search operation. What the
// backends do their own way (FTS5 on SQLite, a tsvector on PostgreSQL) is in their strategies.
#include "storage/store_detail.hpp"

#include <boost/algorithm/string/predicate.hpp>

#include <deque>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace confab::storage {
using namespace detail;
namespace {

constexpr std::int64_t max_i64 = std::numeric_limits<std::int64_t>::max();

bool has_link(std::string_view text) {
  return boost::algorithm::icontains(text, "http://") || boost::algorithm::icontains(text, "https://") ||
         boost::algorithm::icontains(text, "mailto:");
}

// What a batch of feed events leaves in the index: for each message it touches, its last state
// (a document to put, or none: take it out), written by the strategy in a few statements whatever
// the batch's size. Documents point into the events they came from, which the batch keeps.
class index_batch {
 public:
  // A message event (as stored now): put, or taken out once deleted or not plain text.
  void message(const event& ev) {
    const message_key k{ev.conv, ev.seq};
    if (ev.deleted || !(ev.content_type.empty() || ev.content_type == "text/plain")) {
      last_[k] = std::nullopt;
      return;
    }
    std::int64_t flags = 0;
    if (has_link(ev.text)) flags |= search_flag_link;
    if (!ev.mentions.empty() || ev.mention_all || ev.mention_here) flags |= search_flag_mention;
    if (ev.thread_root) flags |= search_flag_thread;
    last_[k] = search_doc{ev.conv, ev.seq, ev.sender, ev.ts_ms, flags, ev.text};
  }
  void remove(id_t conv, std::int64_t seq) { last_[message_key{conv, seq}] = std::nullopt; }
  // An edit: its target is read again (text, or deleted since) by read_edited.
  void edited(id_t conv, std::int64_t target) { edited_.insert({conv, target}); }
  // The edited targets' states now, in one read. Newer than any copy in the batch (the feed read
  // them before), so they override: a target deleted since reads as deleted.
  result<nothing> read_edited(connection& c) {
    if (edited_.empty()) return nothing{};
    CONFAB_TRY(evs, events_at(c, {edited_.begin(), edited_.end()}));
    for (auto& ev : *evs) {
      if (ev.kind != event_kind::message) continue;
      read_.push_back(std::move(ev));
      message(read_.back());
    }
    return nothing{};
  }
  result<nothing> write(connection& c) const {
    std::vector<search_doc> put;
    std::vector<message_key> gone;
    for (const auto& [k, d] : last_) d ? put.push_back(*d) : gone.push_back(k);
    CONFAB_TRY(p, c.strategy()->search_put(c, put));
    return c.strategy()->search_remove(c, gone);
  }

 private:
  std::map<message_key, std::optional<search_doc>> last_;  // in key order: rows locked in one order on every node
  std::set<std::pair<id_t, std::int64_t>> edited_;         // edits' targets, distinct
  std::deque<event> read_;                                 // edited messages read again (stable addresses)
};

// Ids for the names of from: (users) and in: (conversations user is or was in).
result<std::string> id_list(connection& c, const std::vector<std::string>& names, std::string_view sql, id_t user,
                            std::string_view what) {
  std::string out;
  for (const auto& n : names) {
    CONFAB_TRY(r, query(c, sql, {std::string_view(n), user}));
    if (r->empty()) return make_error(errc::not_found, std::string(what) + n);
    for (auto& row : *r) out += (out.empty() ? "" : ", ") + std::to_string(row.i64(0));
  }
  return out;
}

}  // namespace

task<nothing> store::index_for_search(std::vector<event> evs) {
  return ex_->write<nothing>([evs = std::move(evs)](write_context& ctx) -> result<nothing> {
    connection& c = ctx.db;
    index_batch b;
    for (const auto& ev : evs) {
      if (ev.kind == event_kind::message) {
        b.message(ev);
      } else if (const auto* e = std::get_if<edited_payload>(&ev.payload)) {
        b.edited(ev.conv, e->target);
      } else if (const auto* d = std::get_if<deleted_payload>(&ev.payload)) {
        b.remove(ev.conv, d->target);
      }
    }
    CONFAB_TRY(rd, b.read_edited(c));
    return b.write(c);
  });
}

task<event_list_page> store::search(id_t user, const search::query& q, std::optional<id_t> conv,
                                    std::optional<keyset_cursor> before, int limit, std::chrono::milliseconds time_limit,
                                    search_order order) {
  return ex_->read<event_list_page>([=](connection& c) -> result<event_list_page> {
    if (limit < 1 || limit > 100) return make_error(errc::invalid_field, "limit must be 1..100");
    if (order.offset < 0 || order.offset > search_order::max_relevance_offset)
      return make_error(errc::invalid_field, "a relevance page starts at most 1000 results deep");
    const bool filtered = !q.from_users.empty() || !q.in_conversations.empty() || q.since_ms || q.until_ms || q.has_link ||
                          q.has_mention || q.mentions_me || q.is_thread || q.is_pinned;
    if (q.include.empty() && !filtered) return make_error(errc::invalid_field, "query: nothing to look for");
    CONFAB_TRY(from, id_list(c, q.from_users, "SELECT id FROM users WHERE lower(username) = lower($1) AND $2 = $2", user,
                             "from: no user named "));
    CONFAB_TRY(in, id_list(c, q.in_conversations,
                           "SELECT c.id FROM conversations c JOIN members m ON m.conv_id = c.id AND m.user_id = $2 WHERE c.title = $1",
                           user, "in: you are in no conversation named "));
    const keyset_cursor cur = order.relevance ? keyset_cursor{max_i64, max_i64, max_i64}
                                              : before.value_or(keyset_cursor{max_i64, max_i64, max_i64});
    // Filters alone (has:link) list every message that passes them: no word to match.
    const auto m = q.include.empty() && q.exclude.empty() ? search_match{"search_docs d", "$6 = $6", ""} : c.strategy()->match(q, 6);
    std::string sql = "SELECT d.conv_id, d.seq, d.ts_ms FROM " + m.from +
                      " JOIN members m ON m.conv_id = d.conv_id AND m.user_id = $1 WHERE " + m.where +
                      " AND (m.left_seq IS NULL OR d.seq <= m.left_seq) AND " + before_cursor("d.ts_ms", "d.conv_id", "d.seq", 2) +
                      " AND d.ts_ms >= $7 AND d.ts_ms < $8";
    if (conv) sql += " AND d.conv_id = " + std::to_string(*conv);
    if (!from->empty()) sql += " AND d.sender_id IN (" + *from + ")";
    if (!in->empty()) sql += " AND d.conv_id IN (" + *in + ")";
    if (q.has_link) sql += " AND (d.flags & 1) <> 0";
    if (q.has_mention) sql += " AND (d.flags & 2) <> 0";
    if (q.is_thread) sql += " AND (d.flags & 4) <> 0";
    if (q.mentions_me) sql += " AND EXISTS (SELECT 1 FROM mentions mn WHERE mn.user_id = $1 AND mn.conv_id = d.conv_id AND mn.seq = d.seq)";
    if (q.is_pinned) sql += " AND EXISTS (SELECT 1 FROM pins p WHERE p.conv_id = d.conv_id AND p.seq = d.seq)";
    sql += " ORDER BY ";
    if (order.relevance && !m.rank.empty()) sql += m.rank + " DESC, ";
    sql += "d.ts_ms DESC, d.conv_id DESC, d.seq DESC LIMIT $5";
    if (order.relevance) sql += " OFFSET " + std::to_string(order.offset);
    const param ps[] = {user, cur.ms, cur.conv, cur.seq, std::int64_t{limit} + 1, std::string_view(m.arg),
                        q.since_ms.value_or(std::numeric_limits<std::int64_t>::min()), q.until_ms.value_or(max_i64)};
    auto r = c.query_within(sql, ps, time_limit);
    if (!r && r.error().code == errc::limit_reached)
      return make_error(errc::limit_reached, "query: the search " + r.error().message + "; add words or filters to narrow it");
    if (!r) return to_error(r.error());
    return keyset_page(c, user, *r, limit);
  });
}

}  // namespace confab::storage
