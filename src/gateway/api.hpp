// The gateway's entry to Confab's operations, shared by HTTP (POST /v1/<op>) and WebSocket
// ({"op": ...}).
//
// call() enforces what the operation table (chat/operation.hpp) declares for the operation: that
// it exists and is allowed on this transport, authentication, and the device's rate limit; then
// the operation decodes its typed request and runs. It runs on the caller's executor and suspends
// on storage and on the blocking pool (Argon2id). Every call is counted in confab_operations_total
// by operation (an operation the table does not know counts as "unknown") and result ("ok" or the
// error code); a send that succeeded is also timed in confab_send_commit_seconds.
#pragma once

#include "chat/service.hpp"
#include "core/error.hpp"
#include "core/model.hpp"
#include "gateway/hub.hpp"
#include "gateway/options.hpp"
#include "gateway/rate_limiter.hpp"
#include "storage/store.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string_view>

namespace confab::gateway {

class api {
 public:
  api(storage::store& store, hub& hub, const options& opts, boost::asio::thread_pool& blocking);
  ~api();

  // Runs op for the caller described by ctx (ctx.who == nullptr: not authenticated).
  boost::asio::awaitable<result<boost::json::value>> call(std::string_view op, const boost::json::object& args,
                                                          const chat::op_context& ctx);
  // HTTP: resolves the bearer token when the operation needs one (or does not exist), then call().
  boost::asio::awaitable<result<boost::json::value>> call_http(std::string_view op, const boost::json::object& args,
                                                               std::string_view bearer_token);
  // Resolves a bearer token; errc::unauthenticated if unknown or revoked.
  boost::asio::awaitable<result<principal>> authenticate(std::string_view token);

  const options& opts() const { return opts_; }
  const chat::op_table& ops() const { return service_->ops(); }
  storage::store& store() { return store_; }

 private:
  class hub_live;
  struct op_stats;  // the operations' counters (core/node_metrics.hpp)
  boost::asio::awaitable<result<boost::json::value>> dispatch(const chat::operation* op, std::string_view name,
                                                              const boost::json::object& args, const chat::op_context& ctx);
  // issue 17: logs a request that failed on the server's side (internal, unavailable).
  static void log_failure(std::string_view name, const error& e, const chat::op_context& ctx);
  storage::store& store_;
  const options& opts_;
  std::unique_ptr<hub_live> live_;
  std::unique_ptr<chat::service> service_;
  rate_limiter limiter_;
  std::unique_ptr<op_stats> stats_;
};

}  // namespace confab::gateway
