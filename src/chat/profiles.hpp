// Profiles: display names (set_profile), profiles by id (users), and the display names that other
// operations' answers carry next to each user id.
#pragma once

#include "chat/service.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <mutex>
#include <unordered_map>
#include <vector>

namespace confab::chat {

boost::json::object brief_json(const user_brief& u);
// Sets "display_name" on each object from its "user_id", from one batched read; "" when unset.
// The callers already checked that the caller may see these users.
// objs must outlive the call (a named local of the caller's frame).
boost::asio::awaitable<result<nothing>> add_display_names(storage::store& store, const std::vector<boost::json::object*>& objs);
std::vector<boost::json::object*> objects_of(boost::json::array& arr);
// The member objects of the direct conversations among summaries.
std::vector<boost::json::object*> summary_members(boost::json::array& summaries);
// Trimmed of ASCII white space; 0 to 64 bytes of valid UTF-8 without control characters.
result<std::string> check_display_name(std::string_view s);

// Records a device's last activity when it authenticates, at most once a minute per device per
// node (not a write per request). Thread-safe; memory bounded.
class activity_recorder {
 public:
  bool due(id_t device, std::int64_t now_ms);

 private:
  std::mutex mu_;
  std::unordered_map<id_t, std::int64_t> touched_;
};

}  // namespace confab::chat
