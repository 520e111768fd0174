#include "push/notification.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace confab::push {

std::string_view to_string(notification_kind k) { return k == notification_kind::clear ? "clear" : "message"; }

std::string collapse_key(const notification& n) {
  return (n.kind == notification_kind::clear ? "r" : "c") + std::to_string(n.conversation_id);
}

result<std::string> webpush_payload(const notification& n) {
  boost::json::object o;
  o["type"] = to_string(n.kind);
  o["conversation_id"] = n.conversation_id;
  o["seq"] = n.seq;
  o["unread"] = n.unread;
  if (n.sender) o["sender"] = *n.sender;
  if (n.preview) o["preview"] = *n.preview;
  std::string out = boost::json::serialize(o);
  if (out.size() > webpush_max_payload)
    return make_error(errc::too_large, "payload: larger than " + std::to_string(webpush_max_payload) + " bytes");
  return out;
}

std::vector<std::pair<std::string, std::string>> webpush_headers(const notification& n) {
  return {{"TTL", std::to_string(n.ttl_s)},
          {"Urgency", n.kind == notification_kind::clear ? "normal" : "high"},
          {"Topic", collapse_key(n)},
          {"Content-Encoding", "aes128gcm"},
          {"Content-Type", "application/octet-stream"}};
}

}  // namespace confab::push
