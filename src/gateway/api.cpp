#include "gateway/api.hpp"

#include "auth/auth.hpp"
#include "core/blocking.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "core/utf8.hpp"
#include "protocol/codec.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/array.hpp>

#include <algorithm>

namespace confab::gateway {
namespace json = boost::json;
namespace asio = boost::asio;
using protocol::get_int;
using protocol::get_opt_int;
using protocol::get_opt_string;
using protocol::get_string;

#define CONFAB_FIELD(var, expr) \
  auto var = (expr);            \
  if (!var) co_return var.error()

namespace {

result<std::string> check_username(std::string s) {
  if (s.empty() || s.size() > 32) return make_error(errc::invalid_field, "username must be 1 to 32 characters");
  for (unsigned char c : s)
    if (!(std::isalnum(c) && c < 0x80) && c != '_' && c != '.' && c != '-')
      return make_error(errc::invalid_field, "username may contain only a-z, A-Z, 0-9, _ . -");
  return s;
}

result<std::string> check_password(std::string s) {
  if (s.size() < 8 || s.size() > 1024) return make_error(errc::invalid_field, "password must be 8 to 1024 bytes");
  return s;
}

result<int> check_limit(const json::object& a, int dflt) {
  auto l = get_opt_int(a, "limit");
  if (!l) return l.error();
  if (!*l) return dflt;
  if (**l < 1 || **l > 100) return make_error(errc::invalid_field, "field limit must be 1 to 100");
  return static_cast<int>(**l);
}

json::value ok_value() { return json::object{{"ok", true}}; }

json::object brief_json(const user_brief& u) {
  return {{"user_id", u.id}, {"username", u.username}, {"display_name", u.display_name}};
}

// Trimmed of ASCII white space; 0 to 64 bytes of valid UTF-8 without control characters (C0,
// DEL, C1), so a name cannot break a line or hide in a notification.
result<std::string> check_display_name(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || (s.front() >= '\t' && s.front() <= '\r'))) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || (s.back() >= '\t' && s.back() <= '\r'))) s.remove_suffix(1);
  if (s.size() > 64) return make_error(errc::invalid_field, "field display_name must be at most 64 bytes");
  if (!valid_utf8(s)) return make_error(errc::invalid_field, "field display_name is not valid UTF-8");
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xA0;  // U+0080..U+009F
    if (c < 0x20 || c == 0x7F || c1) return make_error(errc::invalid_field, "field display_name must not hold control characters");
  }
  return std::string(s);
}

std::vector<json::object*> objects_of(json::array& arr) {
  std::vector<json::object*> out;
  for (auto& v : arr) out.push_back(&v.as_object());
  return out;
}

// The member objects of the direct conversations among summaries.
std::vector<json::object*> summary_members(json::array& summaries) {
  std::vector<json::object*> out;
  for (auto& s : summaries)
    if (auto* ms = s.as_object().if_contains("members"))
      for (auto& m : ms->as_array()) out.push_back(&m.as_object());
  return out;
}

}  // namespace

api::api(storage::store& store, hub& hub, const options& opts, asio::thread_pool& blocking)
    : store_(store),
      hub_(hub),
      opts_(opts),
      blocking_(blocking),
      dummy_hash_(auth::hash_password("confab-dummy-password", opts.argon2)),
      limiter_(opts.rate_per_sec, opts.rate_burst) {}

class api::password_slot {
 public:
  explicit password_slot(std::shared_ptr<std::atomic<int>> n) : n_(std::move(n)), ok_(n_->fetch_add(1) < max_password_jobs) {}
  ~password_slot() { n_->fetch_sub(1); }
  bool ok() const { return ok_; }

 private:
  std::shared_ptr<std::atomic<int>> n_;
  bool ok_;
};

asio::awaitable<result<principal>> api::authenticate(std::string_view token) {
  if (token.empty() || token.size() > 256) co_return make_error(errc::unauthenticated, "missing or malformed token");
  const std::string hash = auth::token_hash(token);
  auto who = co_await store_.authenticate(hash);
  if (who && due_for_touch(who->device_id, now_ms())) {
    auto t = co_await store_.touch_device(who->device_id, now_ms());
    if (!t)  // activity is informational: the request goes on
      log::warn("cannot record device activity", "\"device\":" + std::to_string(who->device_id) +
                                                      ",\"error\":" + log::quote(t.error().message));
  }
  co_return who;
}

bool api::due_for_touch(id_t device, std::int64_t now) {
  std::lock_guard lock(touch_mu_);
  // Bounded: past this many devices the map starts over (at worst one extra write per device).
  if (touched_.size() > 100'000) touched_.clear();
  auto [it, fresh] = touched_.try_emplace(device, now);
  if (!fresh && now - it->second < 60'000) return false;
  it->second = now;
  return true;
}

asio::awaitable<result<nothing>> api::add_display_names(const std::vector<json::object*>& objs) {
  std::vector<id_t> ids;
  for (auto* o : objs) ids.push_back(o->at("user_id").to_number<id_t>());
  if (ids.empty()) co_return nothing{};
  auto briefs = co_await store_.user_briefs(ids);
  if (!briefs) co_return briefs.error();
  for (auto* o : objs) {
    const auto id = o->at("user_id").to_number<id_t>();
    auto it = std::lower_bound(briefs->begin(), briefs->end(), id, [](const user_brief& b, id_t v) { return b.id < v; });
    (*o)["display_name"] = it != briefs->end() && it->id == id ? it->display_name : std::string();
  }
  co_return nothing{};
}

api::value_task api::call(std::string_view op, const json::object& args, const principal* who) {
  if (op == "register") co_return co_await register_user(args);
  if (op == "login") co_return co_await login(args);
  if (!who) co_return make_error(errc::unauthenticated, "this operation needs a token");
  if (!limiter_.allow(who->device_id)) co_return make_error(errc::rate_limited, "too many requests from this device");
  co_return co_await dispatch(op, args, *who);
}

namespace {
result<std::string> device_name_of(const json::object& a) {
  auto name = get_opt_string(a, "device_name");
  if (!name) return name.error();
  std::string dev_name = name->value_or("device");
  if (dev_name.empty() || dev_name.size() > 64) return make_error(errc::invalid_field, "device_name must be 1 to 64 bytes");
  return dev_name;
}
}  // namespace

api::value_task api::issue_device(id_t user, const std::string& username, const std::string& dev_name) {
  std::string token = auth::new_token();
  const std::string hash = auth::token_hash(token);
  auto dev = co_await store_.create_device(user, dev_name, hash);
  if (!dev) co_return dev.error();
  co_return json::object{{"user_id", user}, {"username", username}, {"device_id", dev->id}, {"token", token}};
}

api::value_task api::register_user(const json::object& a) {
  CONFAB_FIELD(user, get_string(a, "username"));
  CONFAB_FIELD(pass, get_string(a, "password"));
  CONFAB_FIELD(uname, check_username(std::move(*user)));
  CONFAB_FIELD(pw, check_password(std::move(*pass)));
  CONFAB_FIELD(dev_name, device_name_of(a));  // validated before anything is written
  password_slot slot(password_jobs_);
  if (!slot.ok()) co_return make_error(errc::rate_limited, "too many sign-ups in progress; retry shortly");
  auto cost = opts_.argon2;
  // (A named job, not a temporary lambda inside co_await: GCC 12 miscompiles the latter.)
  auto job = [p = std::move(*pw), cost] { return auth::hash_password(p, cost); };
  std::string hash = co_await run_blocking(blocking_, std::move(job));
  if (hash.empty()) co_return make_error(errc::unavailable, "password hashing failed (out of memory)");
  // The account and its first device are written in one transaction: a failure leaves nothing.
  std::string token = auth::new_token();
  const std::string token_h = auth::token_hash(token);
  auto acct = co_await store_.create_account(*uname, hash, *dev_name, token_h);
  if (!acct) co_return acct.error();
  co_return json::object{{"user_id", acct->user_id}, {"username", *uname}, {"device_id", acct->id}, {"token", token}};
}

api::value_task api::login(const json::object& a) {
  CONFAB_FIELD(user, get_string(a, "username"));
  CONFAB_FIELD(pass, get_string(a, "password"));
  CONFAB_FIELD(dev_name, device_name_of(a));
  password_slot slot(password_jobs_);
  if (!slot.ok()) co_return make_error(errc::rate_limited, "too many logins in progress; retry shortly");
  auto rec = co_await store_.find_user(*user);
  if (!rec && rec.error().code != errc::not_found) co_return rec.error();
  // An unknown user costs the same Argon2id verification as a known one.
  auto job = [h = rec ? rec->password_hash : dummy_hash_, p = std::move(*pass)] { return auth::verify_password(h, p); };
  bool ok = co_await run_blocking(blocking_, std::move(job));
  if (!rec || !ok) co_return make_error(errc::invalid_credentials, "wrong username or password");
  co_return co_await issue_device(rec->id, rec->username, *dev_name);
}

api::value_task api::dispatch(std::string_view op, const json::object& a, const principal& who) {
  const id_t me = who.user_id;
  if (op == "send") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    CONFAB_FIELD(client_id, get_string(a, "client_id"));
    CONFAB_FIELD(text, get_string(a, "text"));
    CONFAB_FIELD(ctype, get_opt_string(a, "content_type"));
    CONFAB_FIELD(reply, get_opt_int(a, "reply_to"));
    if (client_id->empty() || client_id->size() > 64)
      co_return make_error(errc::invalid_field, "field client_id must be 1 to 64 bytes");
    if (text->size() > opts_.max_text_bytes)
      co_return make_error(errc::text_too_long, "text of " + std::to_string(text->size()) + " bytes exceeds the limit of " +
                                                    std::to_string(opts_.max_text_bytes));
    std::string content_type = ctype->value_or("text/plain");
    if (content_type.empty() || content_type.size() > 128)
      co_return make_error(errc::invalid_field, "field content_type must be 1 to 128 bytes");
    send_request req{me, who.device_id, *conv, std::move(*client_id), std::move(*text), std::move(content_type), *reply};
    auto ack = co_await store_.send(req);
    if (!ack) co_return ack.error();
    co_return json::object{{"conv", ack->conv}, {"seq", ack->seq}, {"ts", ack->ts_ms}, {"duplicate", ack->duplicate}};
  }
  if (op == "history") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    CONFAB_FIELD(before, get_opt_int(a, "before"));
    CONFAB_FIELD(after, get_opt_int(a, "after"));
    CONFAB_FIELD(limit, check_limit(a, 50));
    if (*before && *after) co_return make_error(errc::invalid_field, "give before or after, not both");
    auto page = co_await store_.history(me, *conv, *before, *after, *limit);
    if (!page) co_return page.error();
    json::array evs;
    for (auto& e : page->events) evs.push_back(protocol::event_object(e));
    co_return json::object{{"events", std::move(evs)}, {"has_more", page->has_more}};
  }
  if (op == "read" || op == "delivered") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    CONFAB_FIELD(seq, get_int(a, "seq"));
    if (*seq < 0) co_return make_error(errc::invalid_field, "field seq must be >= 0");
    auto mark = op == "read" ? store_.mark_read(me, *conv, *seq) : store_.mark_delivered(me, *conv, *seq);
    auto r = co_await std::move(mark);
    if (!r) co_return r.error();
    hub_.receipt(*conv, *r);
    co_return json::object{{"conv", *conv}, {"read_seq", r->read_seq}, {"delivered_seq", r->delivered_seq}};
  }
  if (op == "receipts") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    auto r = co_await store_.receipts(me, *conv);
    if (!r) co_return r.error();
    json::array members;
    for (auto& m : *r)
      members.push_back(json::object{{"user_id", m.user_id}, {"username", m.username},
                                     {"delivered_seq", m.delivered_seq}, {"read_seq", m.read_seq}});
    const auto objs = objects_of(members);
    if (auto n = co_await add_display_names(objs); !n) co_return n.error();
    co_return json::object{{"conv", *conv}, {"members", std::move(members)}};
  }
  if (op == "typing") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    bool active = true;
    if (auto* v = a.if_contains("active"); v && !v->is_null()) {
      if (!v->is_bool()) co_return make_error(errc::invalid_field, "field active must be a boolean");
      active = v->get_bool();
    }
    auto known = hub_.local_member(me, *conv);
    bool member = false;
    if (known) {
      member = *known;
    } else {
      auto r = co_await store_.is_member(me, *conv);
      if (!r) co_return r.error();
      member = *r;
    }
    if (!member) co_return make_error(errc::forbidden, "not a member of this conversation");
    hub_.typing(me, who.username, *conv, active);
    co_return ok_value();
  }
  if (op == "conversations") {
    CONFAB_FIELD(limit, check_limit(a, 50));
    CONFAB_FIELD(cur_ts, get_opt_int(a, "before_ts"));
    CONFAB_FIELD(cur_id, get_opt_int(a, "before_conv"));
    std::optional<storage::conv_cursor> cur;
    if (*cur_ts || *cur_id) {
      if (!*cur_ts || !*cur_id) co_return make_error(errc::invalid_field, "give both before_ts and before_conv");
      cur = storage::conv_cursor{**cur_ts, **cur_id};
    }
    auto list = co_await store_.conversations(me, cur, *limit);
    if (!list) co_return list.error();
    json::array out;
    for (auto& s : *list) out.push_back(protocol::to_json(s));
    const auto objs = summary_members(out);
    if (auto n = co_await add_display_names(objs); !n) co_return n.error();
    json::value next = nullptr;
    if (static_cast<int>(list->size()) == *limit)
      next = json::object{{"before_ts", list->back().last_ms}, {"before_conv", list->back().id}};
    co_return json::object{{"conversations", std::move(out)}, {"next", next}};
  }
  if (op == "conversation") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    auto s = co_await store_.conversation(me, *conv);
    if (!s) co_return s.error();
    json::array out{protocol::to_json(*s)};
    const auto objs = summary_members(out);
    if (auto n = co_await add_display_names(objs); !n) co_return n.error();
    co_return std::move(out[0]);
  }
  if (op == "create_direct") {
    CONFAB_FIELD(other, get_opt_int(a, "user_id"));
    CONFAB_FIELD(uname, get_opt_string(a, "username"));
    id_t target = 0;
    if (*other) {
      target = **other;
    } else if (*uname) {
      auto id = co_await store_.find_user_id(**uname);
      if (!id) co_return id.error();
      target = *id;
    } else {
      co_return make_error(errc::missing_field, "missing field: user_id (or username)");
    }
    auto r = co_await store_.create_direct(me, who.device_id, target);
    if (!r) co_return r.error();
    co_return json::object{{"conv", r->conv}, {"created", r->is_new}};
  }
  if (op == "create_group") {
    CONFAB_FIELD(title, get_string(a, "title"));
    CONFAB_FIELD(members, protocol::get_int_array(a, "members", opts_.max_group_members));
    if (title->empty() || title->size() > 200) co_return make_error(errc::invalid_field, "field title must be 1 to 200 bytes");
    auto r = co_await store_.create_group(me, who.device_id, *title, *members);
    if (!r) co_return r.error();
    co_return json::object{{"conv", *r}};
  }
  if (op == "add_members") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    CONFAB_FIELD(users, protocol::get_int_array(a, "users", opts_.max_group_members));
    if (users->empty()) co_return make_error(errc::invalid_field, "field users must not be empty");
    auto r = co_await store_.add_members(me, who.device_id, *conv, *users);
    if (!r) co_return r.error();
    co_return json::object{{"conv", *conv}, {"seq", *r}};
  }
  if (op == "remove_member" || op == "leave") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    id_t target = me;
    if (op == "remove_member") {
      CONFAB_FIELD(u, get_int(a, "user_id"));
      target = *u;
    }
    auto r = co_await store_.remove_member(me, who.device_id, *conv, target);
    if (!r) co_return r.error();
    co_return json::object{{"conv", *conv}, {"seq", *r}};
  }
  if (op == "set_role") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    CONFAB_FIELD(u, get_int(a, "user_id"));
    CONFAB_FIELD(role, get_string(a, "role"));
    auto r = co_await store_.set_role(me, who.device_id, *conv, *u, *role);
    if (!r) co_return r.error();
    co_return json::object{{"conv", *conv}, {"seq", *r}};
  }
  if (op == "members") {
    CONFAB_FIELD(conv, get_int(a, "conv"));
    auto r = co_await store_.members(me, *conv);
    if (!r) co_return r.error();
    json::array out;
    for (auto& m : *r) out.push_back(protocol::to_json(m));
    const auto objs = objects_of(out);
    if (auto n = co_await add_display_names(objs); !n) co_return n.error();
    co_return json::object{{"members", std::move(out)}};
  }
  if (op == "devices") {
    auto r = co_await store_.list_devices(me);
    if (!r) co_return r.error();
    auto act = co_await store_.device_activity(me);
    if (!act) co_return act.error();
    json::array out;
    for (auto& d : *r) {
      auto o = protocol::to_json(d);
      std::optional<std::int64_t> last;
      for (auto& [id, ms] : *act)
        if (id == d.id) last = ms;
      o["last_active_ms"] = last.value_or(d.created_ms);  // a device is active when created
      out.push_back(std::move(o));
    }
    co_return json::object{{"devices", std::move(out)}, {"current", who.device_id}};
  }
  if (op == "revoke_device" || op == "logout") {
    id_t dev = who.device_id;
    if (op == "revoke_device") {
      CONFAB_FIELD(d, get_int(a, "device_id"));
      dev = *d;
    }
    auto r = co_await store_.revoke_device(me, dev);
    if (!r) co_return r.error();
    hub_.disconnect_device(me, dev, 4001, "device revoked");
    co_return ok_value();
  }
  if (op == "me") {
    auto head = co_await store_.stream_head(me);
    if (!head) co_return head.error();
    json::object out{{"user_id", me}, {"username", who.username}, {"device_id", who.device_id}, {"head", *head}};
    const std::vector<json::object*> objs{&out};
    if (auto n = co_await add_display_names(objs); !n) co_return n.error();
    co_return out;
  }
  if (op == "user") {
    CONFAB_FIELD(uname, get_string(a, "username"));
    auto id = co_await store_.find_user_id(*uname);
    if (!id) co_return id.error();
    json::object out{{"user_id", *id}, {"username", *uname}};
    const std::vector<json::object*> objs{&out};
    if (auto n = co_await add_display_names(objs); !n) co_return n.error();
    co_return out;
  }
  if (op == "find_users") {
    CONFAB_FIELD(prefix, get_string(a, "prefix"));
    if (prefix->empty() || prefix->size() > 32) co_return make_error(errc::invalid_field, "field prefix must be 1 to 32 characters");
    if (!check_username(*prefix))  // names only hold these characters
      co_return make_error(errc::invalid_field, "field prefix may contain only a-z, A-Z, 0-9, _ . -");
    auto lim = get_opt_int(a, "limit");
    if (!lim) co_return lim.error();
    if (*lim && (**lim < 1 || **lim > 20)) co_return make_error(errc::invalid_field, "field limit must be 1 to 20");
    const int limit = *lim ? static_cast<int>(**lim) : 10;
    auto r = co_await store_.find_users(*prefix, me, limit);
    if (!r) co_return r.error();
    json::array out;
    for (auto& u : *r) out.push_back(brief_json(u));
    co_return json::object{{"users", std::move(out)}};
  }
  // --- profiles
  if (op == "users") {
    CONFAB_FIELD(ids, protocol::get_int_array(a, "ids", 100));
    if (ids->empty()) co_return make_error(errc::invalid_field, "field ids must hold 1 to 100 user ids");
    auto r = co_await store_.visible_users(me, *ids);
    if (!r) co_return r.error();
    json::array out;
    for (auto& u : *r) out.push_back(brief_json(u));
    co_return json::object{{"users", std::move(out)}};
  }
  if (op == "set_profile") {
    CONFAB_FIELD(name, get_string(a, "display_name"));
    CONFAB_FIELD(clean, check_display_name(*name));
    auto r = co_await store_.set_display_name(me, *clean);
    if (!r) co_return r.error();
    co_return brief_json(*r);
  }
  co_return make_error(errc::unknown_op, "unknown operation: " + std::string(op.substr(0, 64)));
}

}  // namespace confab::gateway
