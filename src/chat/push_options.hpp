// What the push operations (issue 15) need to know of the node's push configuration. Plain values.
#pragma once

#include "push/registration.hpp"

#include <cstdint>
#include <string>

namespace confab::chat {

struct push_options {
  push::endpoint_policy endpoints;  // where Web Push endpoints may point
  std::string vapid_public_key;     // base64url; empty: this node sends no Web Push
  bool fcm = false;                 // an FCM service account is configured
  bool apns = false;                // an APNs key is configured
  std::int64_t grace_ms = 2000;     // a device that has not received a message by then gets a push
};

}  // namespace confab::chat
