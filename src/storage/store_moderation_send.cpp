// Moderation on the send path (both backends' run_sends call it for sends into conversations
// marked moderated): the post policy, mutes and slow mode, checked after the conversations' row locks, in the send's transaction, with the rules of
// chat/rules.hpp. Several nodes on one PostgreSQL therefore judge a member's sends in one order:
// the slow-mode time a send records is read by the next send of that member only after the first
// commits (the next one waits for the conversation's lock).
#include "storage/store_detail.hpp"

#include <algorithm>
#include <map>

namespace confab::storage::detail {
namespace {

using pair_key = std::pair<id_t, id_t>;  // (conv, user)

// What the moderation of a send needs about one sender in one conversation.
struct poster {
  chat::post_settings settings;
  chat::member_view view;
  std::optional<std::int64_t> last_post_ms;
  bool record = false;  // an accepted send moved last_post_ms
};
using poster_map = std::map<pair_key, poster>;

result<poster> poster_cells(const row& x, std::size_t o, conv_role role);

// The settings, role, mute and last slow-mode post of each (conv, user), in one statement.
result<poster_map> load_posters(connection& c, const std::vector<pair_key>& keys) {
  std::string sql =
      "SELECT v.column1, v.column2, m.role, st.post_policy, st.slow_mode_s, mm.muted_until_ms, mm.last_post_ms FROM (VALUES ";
  std::vector<param> ps;
  sql += pair_values(ps, keys) + ") AS v LEFT JOIN conv_settings st ON st.conv_id = v.column1 "
         "JOIN members m ON m.conv_id = v.column1 AND m.user_id = v.column2 "
         "LEFT JOIN member_moderation mm ON mm.conv_id = v.column1 AND mm.user_id = v.column2";
  // Planned per call on PostgreSQL: the text differs with the number of pairs.
  auto r = c.query_planned(sql, ps);
  if (!r) return to_error(r.error());
  poster_map out;
  for (auto& x : *r) {
    CONFAB_TRY(role, role_cell(x, 2));
    CONFAB_TRY(p, poster_cells(x, 3, *role));
    out.emplace(pair_key{x.i64(0), x.i64(1)}, *p);
  }
  return out;
}

result<nothing> record_posts(connection& c, const poster_map& posters, std::int64_t now_ms) {
  std::string sql = "INSERT INTO member_moderation (conv_id, user_id, last_post_ms) VALUES ";
  std::vector<param> ps{now_ms};
  for (auto& [k, p] : posters) {
    if (!p.record) continue;
    if (ps.size() > 1) sql += ", ";
    sql += "(CAST($" + std::to_string(ps.size() + 1) + " AS BIGINT), CAST($" + std::to_string(ps.size() + 2) +
           " AS BIGINT), CAST($1 AS BIGINT))";
    ps.push_back(k.first);
    ps.push_back(k.second);
  }
  if (ps.size() == 1) return nothing{};
  sql += " ON CONFLICT (conv_id, user_id) DO UPDATE SET last_post_ms = excluded.last_post_ms";
  if (auto r = c.query_planned(sql, ps); !r) return to_error(r.error());
  return nothing{};
}

result<poster> poster_cells(const row& x, std::size_t o, conv_role role) {
  poster p;
  if (!x.is_null(o)) {
    auto policy = parse_policy(x.str(o));
    if (!policy) return make_error(errc::internal, "stored post policy is unknown: " + x.str(o));
    p.settings.post_policy = *policy;
    p.settings.slow_mode_s = x.i64(o + 1);
  }
  p.view.role = role;
  p.view.muted_until_ms = x.opt_i64(o + 2);
  p.last_post_ms = x.opt_i64(o + 3);
  return p;
}

result<std::vector<std::optional<error>>> judge_posts(connection& c, std::span<const send_request* const> sends, poster_map& posters,
                                                      std::int64_t now_ms) {
  std::vector<std::optional<error>> out(sends.size());
  for (std::size_t i = 0; i < sends.size(); ++i) {
    auto p = posters.find({sends[i]->conv, sends[i]->user});
    // check_send found an active member under the same lock; a missing row is a bug.
    if (p == posters.end()) return make_error(errc::internal, "a checked sender has no membership row");
    auto& who = p->second;
    if (auto ok = chat::may_post_under(who.settings, who.view, who.last_post_ms, now_ms); !ok) {
      out[i] = ok.error();
      continue;
    }
    if (chat::slow_mode_applies(who.settings, who.view)) {
      who.last_post_ms = now_ms;  // a later send of the group waits for this one
      who.record = true;
    }
  }
  CONFAB_TRY(rec, record_posts(c, posters, now_ms));
  return out;
}

}  // namespace

result<nothing> mark_moderated(connection& c, id_t conv) {
  CONFAB_TRY(r, query(c, "UPDATE conversations SET moderated = 1 WHERE id = $1 AND moderated = 0", {conv}));
  return nothing{};
}

result<std::vector<std::optional<error>>> check_post_moderation(connection& c, std::span<const send_request* const> sends,
                                                                std::int64_t now_ms) {
  std::vector<pair_key> keys;
  for (auto* s : sends) keys.emplace_back(s->conv, s->user);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  if (keys.empty()) return std::vector<std::optional<error>>(sends.size());
  CONFAB_TRY(posters, load_posters(c, keys));
  return judge_posts(c, sends, *posters, now_ms);
}

result<nothing> check_post_moderation(connection& c, const send_request& send, std::int64_t now_ms) {
  const send_request* one[] = {&send};
  CONFAB_TRY(v, check_post_moderation(c, std::span<const send_request* const>(one), now_ms));
  if ((*v)[0]) return std::move(*(*v)[0]);
  return nothing{};
}

}  // namespace confab::storage::detail
