#include "chat/service.hpp"

#include "chat/accounts.hpp"
#include "chat/profiles.hpp"
#include "core/log.hpp"
#include "core/time.hpp"

namespace confab::chat {

struct service::features {
  explicit features(const deps& d) : acc(d) {}
  accounts acc;
  activity_recorder activity;
};

service::service(deps d) : d_(d), features_(std::make_unique<features>(d_)) {
  add_account_ops(table_, features_->acc);
  add_conversation_ops(table_, d_);
  add_message_ops(table_, d_);
  add_live_ops(table_, d_);
  add_session_ops(table_);
  add_profile_ops(table_, d_);
  // i11-changes
  add_change_ops(table_, d_);
  add_thread_ops(table_, d_);  // issue 11, threads and mentions
  add_moderation_ops(table_, d_);    // moderation
  add_notification_ops(table_, d_);  // moderation
  add_channel_ops(table_, d_);       // issue 12, channels
  add_search_ops(table_, d_);        // issue 13, search
  add_admin_ops(table_, d_);         // issue 17, server administrators
  add_push_ops(table_, d_);          // issue 15, push notifications
}

service::~service() = default;

boost::asio::awaitable<result<principal>> service::authenticate(std::string_view token) {
  if (token.empty() || token.size() > 256) co_return make_error(errc::unauthenticated, "missing or malformed token");
  const std::string hash = auth::token_hash(token);
  auto who = co_await d_.store.authenticate(hash);
  if (who && features_->activity.due(who->device_id, now_ms())) {
    auto t = co_await d_.store.touch_device(who->device_id, now_ms());
    if (!t)  // activity is informational: the request goes on
      log::warn("cannot record device activity",
                "\"device\":" + std::to_string(who->device_id) + ",\"error\":" + log::quote(t.error().message));
  }
  co_return who;
}

const operation* op_table::find(std::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : &it->second;
}

std::vector<std::string> op_table::names() const {
  std::vector<std::string> out;
  for (auto& [n, op] : ops_) out.push_back(n);
  return out;
}

}  // namespace confab::chat
