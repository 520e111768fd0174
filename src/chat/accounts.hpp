// Accounts and devices: register, login, the caller's own account, finding people, devices.
#pragma once

#include "chat/service.hpp"

namespace confab::chat {

class accounts {
 public:
  explicit accounts(const deps& d);

  op_result register_user(const std::string& username, const std::string& password, const std::string& device_name);
  op_result login(const std::string& username, const std::string& password, const std::string& device_name);
  op_result issue_device(id_t user, const std::string& username, const std::string& device_name);

  const deps& d;

 private:
  // Admission for the deliberately slow Argon2id work of register and login: a bounded number in
  // flight, so a flood of them is refused (rate_limited) instead of queueing without bound.
  // Shared, not a member: a suspended register/login destroyed during shutdown may outlive this.
  class password_slot;
  std::shared_ptr<std::atomic<int>> password_jobs_ = std::make_shared<std::atomic<int>>(0);
  static constexpr int max_password_jobs = 8;
  std::string dummy_hash_;  // verified for unknown usernames, so timing does not reveal which exist
};

// The user's devices as the devices operation lists them (revoked ones too, with last_active_ms).
boost::asio::awaitable<result<boost::json::array>> devices_json(storage::store& store, id_t user);

// A username's rules: 1 to 32 characters from A-Z a-z 0-9 _ . -
result<nothing> check_username(std::string_view s, std::string_view field = "username");

}  // namespace confab::chat
