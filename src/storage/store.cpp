// The store: construction, accounts and devices. The other features live in store_*.cpp (one file
// each), the shared helpers and the event append in store_detail.cpp, sends in send_group.cpp.
#include "storage/store.hpp"
#include "storage/push_store.hpp"

#include "core/time.hpp"
#include "storage/send_group.hpp"
#include "storage/store_detail.hpp"

namespace confab::storage {
using namespace detail;

store::store(std::unique_ptr<executor> ex)
    : ex_(std::move(ex)), sends_(std::make_unique<send_group>()), push_(std::make_unique<push_store>(*ex_)) {
  ex_->set_on_uncertain_commit([this] {
    if (sink_) sink_->on_uncertain();
  });
}
store::~store() { stop(); }
void store::stop() { ex_->stop(); }

// ---------------------------------------------------------------- accounts and devices

task<id_t> store::create_user(const std::string& username, const std::string& password_hash) {
  return ex_->write<id_t>([username, hash = password_hash](write_context& ctx) -> result<id_t> {
    auto r = query(ctx.db, "INSERT INTO users (username, password_hash, created_ms) VALUES ($1, $2, $3) RETURNING id",
                   {std::string_view(username), std::string_view(hash), now_ms()});
    if (!r) {
      if (r.error().code == errc::conflict) return make_error(errc::conflict, "username is taken");
      return to_error(r.error());
    }
    return (*r)[0].i64(0);
  });
}

task<user_record> store::find_user(const std::string& username) {
  return ex_->read<user_record>([username](connection& c) -> result<user_record> {
    CONFAB_TRY(r, query(c, "SELECT id, username, password_hash FROM users WHERE username = $1", {std::string_view(username)}));
    if (r->empty()) return make_error(errc::not_found, "no such user");
    return user_record{(*r)[0].i64(0), (*r)[0].str(1), (*r)[0].str(2)};
  });
}

task<id_t> store::find_user_id(const std::string& username) {
  return ex_->read<id_t>([username](connection& c) -> result<id_t> {
    CONFAB_TRY(r, query(c, "SELECT id FROM users WHERE username = $1", {std::string_view(username)}));
    if (r->empty()) return make_error(errc::not_found, "no such user");
    return (*r)[0].i64(0);
  });
}

task<device_record> store::create_device(id_t user, const std::string& name, const std::string& token_hash) {
  return ex_->write<device_record>(
      [user, name, hash = token_hash](write_context& ctx) -> result<device_record> {
        const auto t = now_ms();
        CONFAB_TRY(r, query(ctx.db,
                            "INSERT INTO devices (user_id, name, token_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
                            {user, std::string_view(name), std::string_view(hash), t}));
        return device_record{(*r)[0].i64(0), user, name, t, std::nullopt};
      });
}

task<device_record> store::create_account(const std::string& username, const std::string& password_hash,
                                          const std::string& device_name, const std::string& token_hash) {
  return ex_->write<device_record>([username, password_hash, device_name, token_hash](write_context& ctx) -> result<device_record> {
    const auto t = now_ms();
    auto u = query(ctx.db, "INSERT INTO users (username, password_hash, created_ms) VALUES ($1, $2, $3) RETURNING id",
                   {std::string_view(username), std::string_view(password_hash), t});
    if (!u) {
      if (u.error().code == errc::conflict) return make_error(errc::conflict, "username is taken");
      return to_error(u.error());
    }
    const id_t user = (*u)[0].i64(0);
    CONFAB_TRY(d, query(ctx.db, "INSERT INTO devices (user_id, name, token_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
                        {user, std::string_view(device_name), std::string_view(token_hash), t}));
    return device_record{(*d)[0].i64(0), user, device_name, t, std::nullopt};
  });
}

task<principal> store::authenticate(const std::string& token_hash) {
  return ex_->read<principal>([hash = token_hash](connection& c) -> result<principal> {
    CONFAB_TRY(r, query(c,
                        "SELECT d.user_id, d.id, u.username FROM devices d JOIN users u ON u.id = d.user_id "
                        "WHERE d.token_hash = $1 AND d.revoked_ms IS NULL",
                        {std::string_view(hash)}));
    if (r->empty()) return make_error(errc::unauthenticated, "unknown or revoked token");
    return principal{(*r)[0].i64(0), (*r)[0].i64(1), (*r)[0].str(2)};
  });
}

task<bool> store::device_active(id_t device) {
  return ex_->read<bool>([device](connection& c) -> result<bool> {
    CONFAB_TRY(r, query(c, "SELECT 1 FROM devices WHERE id = $1 AND revoked_ms IS NULL", {device}));
    return !r->empty();
  });
}

task<std::vector<device_record>> store::list_devices(id_t user) {
  return ex_->read<std::vector<device_record>>([user](connection& c) -> result<std::vector<device_record>> {
    CONFAB_TRY(r, query(c, "SELECT id, name, created_ms, revoked_ms FROM devices WHERE user_id = $1 ORDER BY id", {user}));
    std::vector<device_record> out;
    for (auto& x : *r) out.push_back({x.i64(0), user, x.str(1), x.i64(2), x.opt_i64(3)});
    return out;
  });
}

task<nothing> store::revoke_device(id_t user, id_t device) {
  return ex_->write<nothing>([user, device](write_context& ctx) -> result<nothing> {
    CONFAB_TRY(r, query(ctx.db, "SELECT revoked_ms FROM devices WHERE id = $1 AND user_id = $2", {device, user}));
    if (r->empty()) return make_error(errc::not_found, "no such device");
    if (!(*r)[0].is_null(0)) return nothing{};  // already revoked: idempotent
    CONFAB_TRY(u, query(ctx.db, "UPDATE devices SET revoked_ms = $3 WHERE id = $1 AND user_id = $2", {device, user, now_ms()}));
    CONFAB_TRY(p, query(ctx.db, "DELETE FROM push_targets WHERE device_id = $1", {device}));  // issue 15
    return nothing{};
  });
}

}  // namespace confab::storage
