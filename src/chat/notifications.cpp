// Notification levels: each user's choice per conversation (all messages, mentions only, nothing,
// and "muted until"). Per-user state, stored durably (push reads it); not an event.
#include "chat/service.hpp"
#include "protocol/codec.hpp"

namespace confab::chat {
namespace json = boost::json;

namespace {

// The latest time a mute may last until: the end of year 9999 (any client's date picker fits).
constexpr std::int64_t max_muted_until = 253402300799999;

struct set_notify_req {
  std::int64_t conv;
  std::string level;
  std::optional<protocol::int_range<0, max_muted_until>> muted_until;
};
BOOST_DESCRIBE_STRUCT(set_notify_req, (), (conv, level, muted_until))

}  // namespace

void add_notification_ops(op_table& t, const deps& dref) {
  const deps* d = &dref;
  constexpr op_policy authed{};
  t.add<set_notify_req>("set_notify", authed, [d](const op_context& c, const set_notify_req& r) -> op_result {
    if (r.level != "all" && r.level != "mentions" && r.level != "none")
      co_return make_error(errc::invalid_field, "field level must be \"all\", \"mentions\" or \"none\"");
    storage::notify_record want{r.level, r.muted_until ? std::optional<std::int64_t>(r.muted_until->value) : std::nullopt};
    auto got = co_await d->store.set_notify(c.who->user_id, r.conv, want);
    if (!got) co_return got.error();
    json::object out{{"conv", r.conv}, {"notify", got->level}};
    if (got->muted_until) out["muted_until"] = *got->muted_until;
    co_return out;
  });
}

}  // namespace confab::chat
