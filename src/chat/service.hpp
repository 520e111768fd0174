// Confab's chat domain: every operation's handler, grouped by feature, registered in one
// operation table (operation.hpp).
//
// Feature areas, one file each: accounts and devices (accounts.cpp), conversations and
// membership (conversations.cpp), messages (messages.cpp), receipts, typing and presence
// (live.cpp), and the WebSocket session's own operations (session_ops.cpp). The rules of who may
// do what are in rules.hpp and are applied by storage under its locks.
//
// Threads: handlers run on the caller's executor and suspend on storage and on the blocking pool
// (Argon2id). The service is shared by every session of the node; it is thread-safe.
#pragma once

#include "auth/auth.hpp"
#include "chat/operation.hpp"
#include "chat/push_options.hpp"
#include "storage/store.hpp"

#include <boost/asio/thread_pool.hpp>
#include <boost/json/array.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace confab::chat {

// What the operations need from the node's live layer (the gateway's hub). Thread-safe, non-blocking.
class live_port {
 public:
  virtual ~live_port() = default;
  virtual void receipt(id_t conv, const receipt_record& r) = 0;
  // thread: the root seq when typing in a thread (issue 11).
  virtual void typing(id_t user, const std::string& username, id_t conv, bool active, std::optional<std::int64_t> thread) = 0;
  // Closes every session of the device on every node.
  virtual void disconnect_device(id_t user, id_t device, std::uint16_t code, const std::string& reason) = 0;
  // Whether user is an active member of conv, if this node knows without storage.
  virtual std::optional<bool> local_member(id_t user, id_t conv) const = 0;
  // issue 11, threads and mentions: whether each user is online on some node now (same order).
  virtual boost::asio::awaitable<std::vector<bool>> online(const std::vector<id_t>& users) = 0;
  // issue 17: asks every node a cluster query (gateway/cluster_query.hpp; kinds "node",
  // "user_sessions", "disconnect_device"). The result: {"nodes":[{"node":id, ...its answer}],
  // "missing":[ids of nodes listed alive that did not answer in time]}, this node first.
  virtual boost::asio::awaitable<result<boost::json::object>> cluster(std::string kind, boost::json::object args) = 0;
  virtual std::string node_id() const = 0;
  // issue 17: message traces (gateway/trace.hpp). trace_begin: a send by user's device with
  // client_id is traced; its trace id. trace_hop: records a hop of that trace on this node, now.
  virtual std::int64_t trace_begin(id_t user, id_t device, const std::string& client_id) = 0;
  virtual void trace_hop(std::int64_t trace, std::string kind, boost::json::object attrs) = 0;
};

struct limits {
  std::size_t max_text_bytes = 16 * 1024;
  std::size_t max_group_members = 1000;
  auth::argon2_cost argon2;
  std::int64_t max_reactions_per_message = 20;  // distinct emoji on one message
  std::int64_t edit_window_ms = 0;              // 0: messages can be edited at any time
  // @all/@here above this many members: owners and admins only (conversations that set no limit)
  std::int64_t wildcard_mention_limit = 15;
  std::chrono::milliseconds search_time_limit{2000};  // issue 13: the search statement's limit
  // issue 17: the node's effective configuration as config-file lines, secrets redacted
  // (admin_server). Who is an administrator is the gateway's check (op_policy::admin_only).
  std::string effective_config;
  double trace_sample = 0;  // issue 17: the share of sends traced without asking (0..1)
  push_options push;        // issue 15
};

struct deps {
  storage::store& store;
  live_port& live;
  boost::asio::thread_pool& blocking;
  limits lim;
};

// The user a username names (field "username" in errors); not_found if none, invalid_field if
// the name is malformed.
boost::asio::awaitable<result<user_record>> named_user(const deps& d, const std::string& username);

class service {
 public:
  explicit service(deps d);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  const op_table& ops() const { return table_; }
  // Resolves a bearer token; errc::unauthenticated if unknown, malformed or revoked.
  boost::asio::awaitable<result<principal>> authenticate(std::string_view token);

 private:
  deps d_;
  op_table table_;
  struct features;
  std::unique_ptr<features> features_;
};

// Each feature area declares its operations into the table. The objects passed in outlive it.
class accounts;
void add_account_ops(op_table& t, accounts& a);
void add_conversation_ops(op_table& t, const deps& d);
void add_message_ops(op_table& t, const deps& d);
void add_live_ops(op_table& t, const deps& d);
void add_push_ops(op_table& t, const deps& d);  // issue 15
void add_session_ops(op_table& t);
void add_profile_ops(op_table& t, const deps& d);
// i11-changes
void add_change_ops(op_table& t, const deps& d);
// issue 11, threads and mentions (threads.cpp)
void add_thread_ops(op_table& t, const deps& d);
// moderation: settings, pins, mutes and bans (moderation.cpp); notification levels (notifications.cpp)
void add_moderation_ops(op_table& t, const deps& d);
void add_notification_ops(op_table& t, const deps& d);
// issue 12: channels (channels.cpp)
void add_channel_ops(op_table& t, const deps& d);
// issue 13: search (search.cpp)
void add_search_ops(op_table& t, const deps& d);
// issue 17: the server administrators' operations (admin.cpp)
void add_admin_ops(op_table& t, const deps& d);
// Sets each summary's settings.wildcard_limit that the conversation left unset to lim's default.
void fill_setting_defaults(boost::json::array& summaries, const limits& lim);

}  // namespace confab::chat
