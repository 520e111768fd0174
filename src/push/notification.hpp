// What a push says, whatever the provider: by default only ids and counts (the device fetches the
// content); sender and preview only when the deployment opts in. Plain values.
//
// Web Push payloads and headers are built here; FCM's in fcm.hpp, APNs's in apns.hpp.
#pragma once

#include "core/error.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace confab::push {

enum class notification_kind {
  message,  // a new message: show a notification
  clear,    // read on another device up to seq: remove the conversation's notifications
};

struct notification {
  notification_kind kind = notification_kind::message;
  std::int64_t conversation_id = 0;
  std::int64_t seq = 0;     // the message's sequence number (clear: read up to and including)
  std::int64_t unread = 0;  // the user's total unread (server-computed badge, mutes respected)
  std::optional<std::string> sender;   // with previews on only
  std::optional<std::string> preview;  // with previews on only; never for encrypted conversations
  std::int64_t ttl_s = 4 * 7 * 24 * 3600;  // how long the provider may hold it
};

std::string_view to_string(notification_kind k);
// The per-conversation collapse key / collapse id / Topic: "c" followed by the conversation id for
// messages, "r" for clears (a clear must not replace a newer message the service still holds).
std::string collapse_key(const notification& n);

inline constexpr std::size_t webpush_max_payload = 3072;

// The JSON plaintext to encrypt for Web Push: {"type","conversation_id","seq","unread"[,"sender","preview"]};
// too_large beyond webpush_max_payload bytes.
result<std::string> webpush_payload(const notification& n);
// The Web Push request headers besides Authorization: TTL, Urgency, Topic, Content-Encoding.
std::vector<std::pair<std::string, std::string>> webpush_headers(const notification& n);

}  // namespace confab::push
