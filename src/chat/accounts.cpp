#include "chat/accounts.hpp"

#include "chat/profiles.hpp"
#include "core/blocking.hpp"
#include "protocol/codec.hpp"

#include <boost/json/array.hpp>

namespace confab::chat {
namespace json = boost::json;
namespace asio = boost::asio;
using protocol::bytes;
using protocol::int_range;

namespace {

struct register_req {
  std::string username;
  bytes<8, 1024> password;
  std::optional<bytes<1, 64>> device_name;
};
BOOST_DESCRIBE_STRUCT(register_req, (), (username, password, device_name))

struct login_req {
  std::string username;
  std::string password;
  std::optional<bytes<1, 64>> device_name;
};
BOOST_DESCRIBE_STRUCT(login_req, (), (username, password, device_name))

struct user_req {
  std::string username;
};
BOOST_DESCRIBE_STRUCT(user_req, (), (username))

struct find_users_req {
  bytes<1, 32> prefix;
  std::optional<int_range<1, 20>> limit;
};
BOOST_DESCRIBE_STRUCT(find_users_req, (), (prefix, limit))

struct revoke_req {
  std::int64_t device_id;
};
BOOST_DESCRIBE_STRUCT(revoke_req, (), (device_id))

std::string device_name(const std::optional<bytes<1, 64>>& n) { return n ? n->value : "device"; }

json::value ok_value() { return json::object{{"ok", true}}; }

}  // namespace

result<nothing> check_username(std::string_view s, std::string_view field) {
  if (s.empty() || s.size() > 32) return make_error(errc::invalid_field, std::string(field) + " must be 1 to 32 characters");
  for (unsigned char c : s)
    if (!(std::isalnum(c) && c < 0x80) && c != '_' && c != '.' && c != '-')
      return make_error(errc::invalid_field, std::string(field) + " may contain only a-z, A-Z, 0-9, _ . -");
  return nothing{};
}

class accounts::password_slot {
 public:
  explicit password_slot(std::shared_ptr<std::atomic<int>> n) : n_(std::move(n)), ok_(n_->fetch_add(1) < max_password_jobs) {}
  ~password_slot() { n_->fetch_sub(1); }
  bool ok() const { return ok_; }

 private:
  std::shared_ptr<std::atomic<int>> n_;
  bool ok_;
};

accounts::accounts(const deps& dd) : d(dd), dummy_hash_(auth::hash_password("confab-dummy-password", dd.lim.argon2)) {}

op_result accounts::issue_device(id_t user, const std::string& username, const std::string& dev_name) {
  std::string token = auth::new_token();
  const std::string hash = auth::token_hash(token);
  auto dev = co_await d.store.create_device(user, dev_name, hash);
  if (!dev) co_return dev.error();
  co_return json::object{{"user_id", user}, {"username", username}, {"device_id", dev->id}, {"token", token}};
}

op_result accounts::register_user(const std::string& username, const std::string& password, const std::string& dev_name) {
  if (auto ok = check_username(username); !ok) co_return ok.error();
  password_slot slot(password_jobs_);
  if (!slot.ok()) co_return make_error(errc::rate_limited, "too many sign-ups in progress; retry shortly");
  // (A named job, not a temporary lambda inside co_await: GCC 12 miscompiles the latter.)
  auto job = [p = password, cost = d.lim.argon2] { return auth::hash_password(p, cost); };
  std::string hash = co_await run_blocking(d.blocking, std::move(job));
  if (hash.empty()) co_return make_error(errc::unavailable, "password hashing failed (out of memory)");
  // The account and its first device are written in one transaction: a failure leaves nothing.
  std::string token = auth::new_token();
  const std::string token_h = auth::token_hash(token);
  auto acct = co_await d.store.create_account(username, hash, dev_name, token_h);
  if (!acct) co_return acct.error();
  co_return json::object{{"user_id", acct->user_id}, {"username", username}, {"device_id", acct->id}, {"token", token}};
}

op_result accounts::login(const std::string& username, const std::string& password, const std::string& dev_name) {
  password_slot slot(password_jobs_);
  if (!slot.ok()) co_return make_error(errc::rate_limited, "too many logins in progress; retry shortly");
  auto rec = co_await d.store.find_user(username);
  if (!rec && rec.error().code != errc::not_found) co_return rec.error();
  // An unknown user costs the same Argon2id verification as a known one.
  auto job = [h = rec ? rec->password_hash : dummy_hash_, p = password] { return auth::verify_password(h, p); };
  bool ok = co_await run_blocking(d.blocking, std::move(job));
  if (!rec || !ok) co_return make_error(errc::invalid_credentials, "wrong username or password");
  co_return co_await issue_device(rec->id, rec->username, dev_name);
}

boost::asio::awaitable<result<json::array>> devices_json(storage::store& store, id_t user) {
  auto devs = co_await store.list_devices(user);
  if (!devs) co_return devs.error();
  auto act = co_await store.device_activity(user);
  if (!act) co_return act.error();
  json::array out;
  for (auto& dv : *devs) {
    auto o = protocol::to_json(dv);
    std::optional<std::int64_t> last;
    for (auto& [id, ms] : *act)
      if (id == dv.id) last = ms;
    o["last_active_ms"] = last.value_or(dv.created_ms);  // a device is active when created
    out.push_back(std::move(o));
  }
  co_return out;
}

void add_account_ops(op_table& t, accounts& a) {
  constexpr op_policy open{.needs_auth = false, .rate_cost = 0};
  constexpr op_policy authed{};
  // (Coroutines holding the device name in their frame: a temporary bound to a coroutine's
  // reference parameter would die before the coroutine runs.)
  t.add<register_req>("register", open, [&a](const op_context&, const register_req& r) -> op_result {
    const std::string dev = device_name(r.device_name);
    co_return co_await a.register_user(r.username, r.password.value, dev);
  });
  t.add<login_req>("login", open, [&a](const op_context&, const login_req& r) -> op_result {
    const std::string dev = device_name(r.device_name);
    co_return co_await a.login(r.username, r.password, dev);
  });
  t.add<protocol::no_fields>("me", authed, [&a](const op_context& c, const protocol::no_fields&) -> op_result {
    auto head = co_await a.d.store.stream_head(c.who->user_id);
    if (!head) co_return head.error();
    json::object out{{"user_id", c.who->user_id}, {"username", c.who->username}, {"device_id", c.who->device_id}, {"head", *head}};
    std::vector<json::object*> objs{&out};  // (named: GCC 12 miscompiles this temporary inside co_await)
    if (auto n = co_await add_display_names(a.d.store, objs); !n) co_return n.error();
    co_return out;
  });
  t.add<user_req>("user", authed, [&a](const op_context&, const user_req& r) -> op_result {
    auto id = co_await a.d.store.find_user_id(r.username);
    if (!id) co_return id.error();
    json::object out{{"user_id", *id}, {"username", r.username}};
    std::vector<json::object*> objs{&out};  // (named: GCC 12 miscompiles this temporary inside co_await)
    if (auto n = co_await add_display_names(a.d.store, objs); !n) co_return n.error();
    co_return out;
  });
  t.add<find_users_req>("find_users", authed, [&a](const op_context& c, const find_users_req& r) -> op_result {
    if (auto ok = check_username(r.prefix.value, "field prefix"); !ok) co_return ok.error();  // names only hold these
    auto users = co_await a.d.store.find_users(r.prefix.value, c.who->user_id, r.limit ? static_cast<int>(r.limit->value) : 10);
    if (!users) co_return users.error();
    json::array out;
    for (auto& u : *users) out.push_back(brief_json(u));
    co_return json::object{{"users", std::move(out)}};
  });
  t.add<protocol::no_fields>("devices", authed, [&a](const op_context& c, const protocol::no_fields&) -> op_result {
    auto out = co_await devices_json(a.d.store, c.who->user_id);
    if (!out) co_return out.error();
    co_return json::object{{"devices", std::move(*out)}, {"current", c.who->device_id}};
  });
  auto revoke = [&a](id_t user, id_t device) -> op_result {
    auto r = co_await a.d.store.revoke_device(user, device);
    if (!r) co_return r.error();
    a.d.live.disconnect_device(user, device, 4001, "device revoked");
    co_return ok_value();
  };
  t.add<revoke_req>("revoke_device", authed,
                    [revoke](const op_context& c, const revoke_req& r) { return revoke(c.who->user_id, r.device_id); });
  t.add<protocol::no_fields>("logout", authed,
                             [revoke](const op_context& c, const protocol::no_fields&) { return revoke(c.who->user_id, c.who->device_id); });
}

}  // namespace confab::chat
