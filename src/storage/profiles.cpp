// The store's profile queries: display names, people search, device activity (see store.hpp).
#include "storage/store.hpp"
#include "storage/store_detail.hpp"
#include "storage/strategy.hpp"

#include <algorithm>
#include <cctype>

namespace confab::storage {
using detail::placeholders;
using detail::to_error;

namespace {

std::vector<user_brief> briefs_of(const rows& rs) {
  std::vector<user_brief> out;
  out.reserve(rs.size());
  for (auto& x : rs) out.push_back({x.i64(0), x.str(1), x.str(2)});
  return out;
}

std::vector<id_t> sorted_unique(std::vector<id_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

task<std::vector<user_brief>> store::find_users(const std::string& prefix, id_t except_user, int limit) {
  return ex_->read<std::vector<user_brief>>([prefix, except_user, limit](connection& c) -> result<std::vector<user_brief>> {
    // A range on lower(username), so the users_lower_name expression index serves it. Usernames
    // are ASCII below DEL, so every lower-cased name starting with the lower-cased prefix sorts
    // below it + DEL. PostgreSQL compares in byte order only under the "C" collation (the index
    // is built with it); SQLite's default is byte order.
    std::string low = prefix;
    for (auto& ch : low) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto* strategy = c.strategy();
    if (!strategy) return make_error(errc::internal, "storage connection without a store strategy");
    const std::string col = strategy->bytewise("lower(username)");
    const std::string upper = low + '\x7f';
    auto r = query(c,
                   "SELECT id, username, display_name FROM users WHERE " + col + " >= $1 AND " + col + " < $2 AND id <> $3 ORDER BY " +
                       col + ", id LIMIT $4",
                   {std::string_view(low), std::string_view(upper), except_user, std::int64_t{limit}});
    if (!r) return to_error(r.error());
    return briefs_of(*r);
  });
}

task<std::vector<user_brief>> store::visible_users(id_t viewer, const std::vector<id_t>& ids) {
  return ex_->read<std::vector<user_brief>>([viewer, ids = sorted_unique(ids)](connection& c) -> result<std::vector<user_brief>> {
    if (ids.empty()) return std::vector<user_brief>{};
    std::vector<param> ps{viewer};
    for (auto id : ids) ps.emplace_back(id);
    // Former members count on both sides: a name seen in a conversation's history stays resolvable.
    auto r = c.query("SELECT u.id, u.username, u.display_name FROM users u WHERE u.id IN " + placeholders(2, ids.size()) +
                         " AND (u.id = $1 OR EXISTS (SELECT 1 FROM members mine JOIN members o ON o.conv_id = mine.conv_id "
                         "WHERE mine.user_id = $1 AND o.user_id = u.id)) ORDER BY u.id",
                     ps);
    if (!r) return to_error(r.error());
    return briefs_of(*r);
  });
}

task<std::vector<user_brief>> store::user_briefs(const std::vector<id_t>& ids) {
  return ex_->read<std::vector<user_brief>>([ids = sorted_unique(ids)](connection& c) -> result<std::vector<user_brief>> {
    if (ids.empty()) return std::vector<user_brief>{};
    std::vector<param> ps(ids.begin(), ids.end());
    auto r = c.query("SELECT id, username, display_name FROM users WHERE id IN " + placeholders(1, ids.size()) + " ORDER BY id", ps);
    if (!r) return to_error(r.error());
    return briefs_of(*r);
  });
}

task<user_brief> store::set_display_name(id_t user, const std::string& display_name) {
  return ex_->write<user_brief>([user, display_name](write_context& ctx) -> result<user_brief> {
    auto r = query(ctx.db, "UPDATE users SET display_name = $2 WHERE id = $1 RETURNING id, username, display_name",
                   {user, std::string_view(display_name)});
    if (!r) return to_error(r.error());
    if (r->empty()) return make_error(errc::not_found, "no such user");
    return briefs_of(*r).front();
  });
}

task<nothing> store::touch_device(id_t device, std::int64_t ms) {
  return ex_->write<nothing>([device, ms](write_context& ctx) -> result<nothing> {
    auto r = query(ctx.db, "UPDATE devices SET last_active_ms = $2 WHERE id = $1 AND (last_active_ms IS NULL OR last_active_ms < $2)",
                   {device, ms});
    if (!r) return to_error(r.error());
    return nothing{};
  });
}

task<std::vector<std::pair<id_t, std::optional<std::int64_t>>>> store::device_activity(id_t user) {
  using out_t = std::vector<std::pair<id_t, std::optional<std::int64_t>>>;
  return ex_->read<out_t>([user](connection& c) -> result<out_t> {
    auto r = query(c, "SELECT id, last_active_ms FROM devices WHERE user_id = $1 ORDER BY id", {user});
    if (!r) return to_error(r.error());
    out_t out;
    for (auto& x : *r) out.emplace_back(x.i64(0), x.opt_i64(1));
    return out;
  });
}

}  // namespace confab::storage
