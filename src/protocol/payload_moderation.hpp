// Internal to the protocol module: the JSON of the moderation events' payloads (settings_changed,
// pinned/unpinned, member_muted/unmuted/banned/unbanned) and of a conversation summary's
// moderation fields. codec.cpp calls these; nothing outside src/protocol includes this header.
// Pure, no I/O.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"

#include <boost/json/object.hpp>

namespace confab::protocol::detail {

boost::json::object payload_json(const settings_payload& p);
boost::json::object payload_json(const pin_payload& p);
boost::json::object payload_json(const moderation_payload& p);
// Reads a stored moderation payload back; nullopt if kind is not a moderation kind; errc::internal
// names what is corrupt.
std::optional<result<event_payload>> parse_moderation_payload(event_kind kind, const boost::json::object& o);
// Adds description, settings, notify, muted_until and member_muted_until to a summary object.
void add_moderation_fields(const conversation_summary& s, boost::json::object& o);

}  // namespace confab::protocol::detail
