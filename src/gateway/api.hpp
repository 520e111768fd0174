// Every operation of Confab's API, shared by HTTP (POST /v1/<op>) and WebSocket ({"op": ...}).
//
// call() validates the fields, checks authentication and the per-device rate limit, runs the
// operation against storage and returns the result's JSON or a typed error. It runs on the
// caller's executor and suspends on storage and on the blocking pool (Argon2id).
#pragma once

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

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>
#include <string>
#include <string_view>

namespace confab::gateway {

class api {
 public:
  api(storage::store& store, hub& hub, const options& opts, boost::asio::thread_pool& blocking);

  // who == nullptr: unauthenticated (only register and login are allowed).
  boost::asio::awaitable<result<boost::json::value>> call(std::string_view op, const boost::json::object& args,
                                                          const principal* who);
  // Resolves a bearer token; errc::unauthenticated if unknown or revoked.
  boost::asio::awaitable<result<principal>> authenticate(std::string_view token);

  const options& opts() const { return opts_; }
  // Takes one token from the device's rate limit (for operations handled outside call()).
  bool allow(id_t device) { return limiter_.allow(device); }
  storage::store& store() { return store_; }

 private:
  using value_task = boost::asio::awaitable<result<boost::json::value>>;
  value_task register_user(const boost::json::object& a);
  value_task login(const boost::json::object& a);
  value_task dispatch(std::string_view op, const boost::json::object& a, const principal& who);
  value_task issue_device(id_t user, const std::string& username, const std::string& device_name);
  // Sets "display_name" on each object (which has "user_id"); unavailable if storage failed.
  boost::asio::awaitable<result<nothing>> add_display_names(const std::vector<boost::json::object*>& objs);
  // Whether a device's authentication should be recorded now (at most once a minute per device,
  // so last_active_ms costs no write per request). Thread-safe.
  bool due_for_touch(id_t device, std::int64_t now_ms);

  storage::store& store_;
  hub& hub_;
  const options& opts_;
  boost::asio::thread_pool& blocking_;
  // Admission for the deliberately slow Argon2id work of register and login: a bounded number in
  // flight, so a flood of them is refused (rate_limited) instead of queueing without bound.
  class password_slot;
  // Shared, not a member: a suspended register/login destroyed during shutdown may outlive api.
  std::shared_ptr<std::atomic<int>> password_jobs_ = std::make_shared<std::atomic<int>>(0);
  static constexpr int max_password_jobs = 8;
  std::string dummy_hash_;  // verified for unknown usernames, so timing does not reveal which exist
  rate_limiter limiter_;
  std::mutex touch_mu_;
  std::unordered_map<id_t, std::int64_t> touched_;  // device -> when last recorded (bounded, see .cpp)
};

}  // namespace confab::gateway
