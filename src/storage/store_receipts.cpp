// The store's receipts, membership queries for the hub, and last seen.
#include "storage/push_store.hpp"
#include "storage/store_detail.hpp"

#include <algorithm>

namespace confab::storage {
using namespace detail;

namespace {

result<receipt_record> load_receipt(connection& c, id_t conv, id_t user) {
  CONFAB_TRY(r, query(c,
                      "SELECT m.user_id, u.username, m.delivered_seq, m.read_seq FROM members m "
                      "JOIN users u ON u.id = m.user_id WHERE m.conv_id = $1 AND m.user_id = $2",
                      {conv, user}));
  if (r->empty()) return make_error(errc::forbidden, "not a member of this conversation");
  return receipt_record{(*r)[0].i64(0), (*r)[0].str(1), (*r)[0].i64(2), (*r)[0].i64(3)};
}

// Moves a member's delivered pointer, or read pointer and with it the delivered one (reading implies
// delivery), up to seq clamped to the conversation's last seq; never back. Returns both after.
// Issue 15: the device's own delivered pointer moves too, and a read queues the clear pushes.
result<receipt_record> advance_receipt(connection& c, id_t conv, id_t user, id_t device, std::int64_t seq, bool read) {
  CONFAB_TRY(m, require_active(c, conv, user));
  const std::int64_t target = std::min(seq, m->last_seq);
  CONFAB_TRY(u, query(c,
                      read ? "UPDATE members SET read_seq = CASE WHEN read_seq < $3 THEN $3 ELSE read_seq END, "
                             "delivered_seq = CASE WHEN delivered_seq < $3 THEN $3 ELSE delivered_seq END "
                             "WHERE conv_id = $1 AND user_id = $2 AND (read_seq < $3 OR delivered_seq < $3)"
                           : "UPDATE members SET delivered_seq = $3 WHERE conv_id = $1 AND user_id = $2 AND delivered_seq < $3",
                      {conv, user, target}));
  CONFAB_TRY(d, device_delivered(c, device, conv, target));
  if (read) {
    CONFAB_TRY(cl, clear_on_read(c, user, device, conv, target));
  }
  auto r = load_receipt(c, conv, user);
  if (r) r->channel = m->kind == conv_kind::channel;  // issue 12
  return r;
}

}  // namespace

task<receipt_record> store::mark_delivered(id_t user, id_t device, id_t conv, std::int64_t seq) {
  return ex_->write<receipt_record>(
      [=](write_context& ctx) -> result<receipt_record> { return advance_receipt(ctx.db, conv, user, device, seq, false); });
}

task<receipt_record> store::mark_read(id_t user, id_t device, id_t conv, std::int64_t seq) {
  return ex_->write<receipt_record>(
      [=](write_context& ctx) -> result<receipt_record> { return advance_receipt(ctx.db, conv, user, device, seq, true); });
}

task<std::vector<receipt_record>> store::receipts(id_t user, id_t conv) {
  return ex_->read<std::vector<receipt_record>>([=](connection& c) -> result<std::vector<receipt_record>> {
    CONFAB_TRY(m, require_active(c, conv, user));
    if (m->kind == conv_kind::channel)  // issue 12: no receipts among a channel's members
      return make_error(errc::invalid_field, "a channel has no receipts");
    CONFAB_TRY(r, query(c,
                        "SELECT m.user_id, u.username, m.delivered_seq, m.read_seq FROM members m "
                        "JOIN users u ON u.id = m.user_id WHERE m.conv_id = $1 AND m.left_seq IS NULL ORDER BY m.user_id",
                        {conv}));
    std::vector<receipt_record> out;
    for (auto& x : *r) out.push_back({x.i64(0), x.str(1), x.i64(2), x.i64(3)});
    return out;
  });
}

task<bool> store::is_member(id_t user, id_t conv) {
  return ex_->read<bool>([=](connection& c) -> result<bool> {
    CONFAB_TRY(r, query(c, "SELECT 1 FROM members WHERE conv_id = $1 AND user_id = $2 AND left_seq IS NULL", {conv, user}));
    return !r->empty();
  });
}

task<std::vector<id_t>> store::conversation_ids(id_t user) {
  return ex_->read<std::vector<id_t>>([=](connection& c) -> result<std::vector<id_t>> {
    CONFAB_TRY(r, query(c, "SELECT conv_id FROM members WHERE user_id = $1 AND left_seq IS NULL ORDER BY conv_id", {user}));
    std::vector<id_t> out;
    for (auto& x : *r) out.push_back(x.i64(0));
    return out;
  });
}

task<std::vector<id_t>> store::shared_users(id_t user, const std::vector<id_t>& candidates) {
  return ex_->read<std::vector<id_t>>([user, cands = candidates](connection& c) -> result<std::vector<id_t>> {
    std::vector<id_t> out;
    if (cands.empty()) return out;
    std::vector<param> ps{user};
    for (auto id : cands) ps.emplace_back(id);
    auto r = c.query("SELECT DISTINCT o.user_id FROM members mine JOIN members o ON o.conv_id = mine.conv_id "
                     "WHERE mine.user_id = $1 AND mine.left_seq IS NULL AND o.left_seq IS NULL AND o.user_id IN " +
                         placeholders(2, cands.size()) + " ORDER BY o.user_id",
                     ps);
    if (!r) return to_error(r.error());
    for (auto& x : *r) out.push_back(x.i64(0));
    if (std::find(cands.begin(), cands.end(), user) != cands.end() && !std::binary_search(out.begin(), out.end(), user))
      out.insert(std::lower_bound(out.begin(), out.end(), user), user);
    return out;
  });
}

task<nothing> store::set_last_seen(id_t user, std::int64_t ms) {
  return ex_->write<nothing>([=](write_context& ctx) -> result<nothing> {
    CONFAB_TRY(r, query(ctx.db, "UPDATE users SET last_seen_ms = $2 WHERE id = $1 AND (last_seen_ms IS NULL OR last_seen_ms < $2)",
                        {user, ms}));
    return nothing{};
  });
}

task<std::vector<std::optional<std::int64_t>>> store::last_seen(const std::vector<id_t>& users) {
  using out_t = std::vector<std::optional<std::int64_t>>;
  return ex_->read<out_t>([ids = users](connection& c) -> result<out_t> {
    out_t out(ids.size());
    if (ids.empty()) return out;
    std::vector<param> ps(ids.begin(), ids.end());
    auto r = c.query("SELECT id, last_seen_ms FROM users WHERE id IN " + placeholders(1, ids.size()), ps);
    if (!r) return to_error(r.error());
    for (auto& x : *r) {
      const auto id = x.i64(0);
      for (std::size_t i = 0; i < ids.size(); ++i)
        if (ids[i] == id) out[i] = x.opt_i64(1);
    }
    return out;
  });
}

}  // namespace confab::storage
