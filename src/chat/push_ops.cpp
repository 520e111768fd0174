// Push notifications' operations (issue 15): a device registers or removes its push target, a
// browser reads the VAPID public key, and an administrator asks why a user did or did not get a
// push for a message. The queue and the sending are the server's push worker (server/push_worker).
#include "chat/service.hpp"
#include "push/registration.hpp"
#include "storage/push_store.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>

namespace confab::chat {
namespace json = boost::json;

namespace {

struct register_req {
  json::object target;
};
BOOST_DESCRIBE_STRUCT(register_req, (), (target))

struct explain_req {
  std::string username;
  std::int64_t conv;
  std::int64_t seq;
};
BOOST_DESCRIBE_STRUCT(explain_req, (), (username, conv, seq))

std::string_view kind_of(const push::push_target& t) {
  if (std::holds_alternative<push::fcm_target>(t)) return "fcm";
  if (std::holds_alternative<push::apns_target>(t)) return "apns";
  return "webpush";
}

// unavailable when this node is not configured to send to the target's provider.
result<nothing> provider_configured(const push_options& o, std::string_view kind) {
  const bool ok = kind == "fcm" ? o.fcm : kind == "apns" ? o.apns : !o.vapid_public_key.empty();
  if (!ok) return make_error(errc::unavailable, "this server does not send " + std::string(kind) + " pushes");
  return nothing{};
}

// The enqueue-time rule that decides for this user and message (docs/push.md), as the facts are now.
std::string verdict(const storage::push_facts& f) {
  if (!f.exists) return "no such message";
  if (f.sender) return "the sender is not notified of their own message";
  if (!f.member_at_seq) return "not a member of the conversation when the message was sent";
  if (f.muted_until && *f.muted_until > f.ts_ms) return "the conversation's notifications are muted";
  if (f.level == "none") return "the conversation's notification level is none";
  if (f.level == "mentions" && !f.mentioned) return "the notification level is mentions, and the message does not mention the user";
  if (f.thread_reply && !f.mentioned && !f.following) return "a reply in a thread the user does not follow";
  if (f.targets.empty()) return "no device of the user has a push target";
  if (f.mentioned) return "queued: the user is mentioned";
  return f.thread_reply ? "queued: a reply in a thread the user follows" : "queued: the notification level is all";
}

json::object explain(const storage::push_facts& f, const std::vector<storage::push_row>& rows) {
  json::object rules{{"member_at_seq", f.member_at_seq}, {"sender", f.sender}, {"level", f.level},
                     {"mentioned", f.mentioned}, {"thread_reply", f.thread_reply}, {"following", f.following}};
  if (f.muted_until) rules["muted_until"] = *f.muted_until;
  // The devices with a target now, then those with pushes for it whose target is gone (null).
  std::vector<std::pair<id_t, json::value>> ids;
  for (const auto& t : f.targets) ids.emplace_back(t.device, json::string(t.kind));
  for (const auto& r : rows)
    if (std::none_of(ids.begin(), ids.end(), [&](const auto& x) { return x.first == r.device; })) ids.emplace_back(r.device, nullptr);
  json::array devices;
  for (const auto& [id, kind] : ids) {
    json::array pushes;
    for (const auto& r : rows) {
      if (r.device != id) continue;
      pushes.push_back(json::object{{"kind", r.kind}, {"state", r.state}, {"rule", r.rule}, {"detail", r.detail},
                                    {"attempts", r.attempts}, {"due_ms", r.due_ms}, {"updated_ms", r.updated_ms}});
    }
    devices.push_back(json::object{{"device_id", id}, {"target", kind}, {"pushes", std::move(pushes)}});
  }
  json::object out{{"verdict", verdict(f)}, {"rules", std::move(rules)}, {"devices", std::move(devices)}};
  return out;
}

}  // namespace

void add_push_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  constexpr op_policy open{.needs_auth = false};
  constexpr op_policy admin{.admin_only = true};

  t.add<protocol::no_fields>("push_vapid_key", open, [d](const op_context&, const protocol::no_fields&) -> op_result {
    if (d->lim.push.vapid_public_key.empty()) co_return make_error(errc::unavailable, "this server sends no Web Push");
    json::object out{{"key", d->lim.push.vapid_public_key}};
    co_return out;
  });

  t.add<register_req>("push_register", authed, [d](const op_context& c, const register_req& r) -> op_result {
    auto target = push::parse_target(json::value(r.target), d->lim.push.endpoints);
    if (!target) co_return target.error();
    const auto kind = kind_of(*target);
    if (auto ok = provider_configured(d->lim.push, kind); !ok) co_return ok.error();
    storage::push_target_record rec{c.who->device_id, c.who->user_id, std::string(kind), json::serialize(r.target)};
    auto set = co_await d->store.push().set_target(rec);
    if (!set) co_return set.error();
    json::object out{{"kind", kind}};
    co_return out;
  });

  t.add<protocol::no_fields>("push_unregister", authed, [d](const op_context& c, const protocol::no_fields&) -> op_result {
    auto removed = co_await d->store.push().remove_target(c.who->device_id);
    if (!removed) co_return removed.error();
    json::object out{{"removed", *removed}};
    co_return out;
  });

  t.add<explain_req>("push_explain", admin, [d](const op_context&, const explain_req& r) -> op_result {
    auto u = co_await named_user(*d, r.username);
    if (!u) co_return u.error();
    auto facts = co_await d->store.push().facts(u->id, r.conv, r.seq);
    if (!facts) co_return facts.error();
    if (!facts->exists) co_return make_error(errc::not_found, "no such message");
    auto rows = co_await d->store.push().rows(u->id, r.conv, r.seq);
    if (!rows) co_return rows.error();
    auto out = explain(*facts, *rows);
    out["user_id"] = u->id;
    out["conv"] = r.conv;
    out["seq"] = r.seq;
    co_return out;
  });
}

}  // namespace confab::chat
