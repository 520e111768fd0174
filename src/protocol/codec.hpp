// Confab's wire format: parsing client frames and serialising server frames. Pure, no I/O.
//
// A client frame (WebSocket text message or HTTP body) is one JSON object. Parsing checks, in
// order: size, UTF-8, JSON syntax, object-ness — each failure is its own errc. Field accessors
// return errc::missing_field / invalid_field naming the field. See docs/protocol.md.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::protocol {

// A parsed request: the operation, the caller's correlation id (echoed back, may be null) and all
// fields of the frame.
struct request {
  std::string op;
  boost::json::value id;
  boost::json::object args;
};

// Parses a WebSocket frame: a JSON object with a string "op" and an optional "id" (string or
// integer). max_bytes bounds the frame.
result<request> parse_frame(std::string_view text, std::size_t max_bytes);
// Parses an HTTP body as the fields of operation op ("" or whitespace means {}).
result<boost::json::object> parse_body(std::string_view text, std::size_t max_bytes);

// --- typed field access; each returns missing_field / invalid_field naming the field
result<std::int64_t> get_int(const boost::json::object& o, std::string_view key);
result<std::optional<std::int64_t>> get_opt_int(const boost::json::object& o, std::string_view key);
result<std::string> get_string(const boost::json::object& o, std::string_view key);
result<std::optional<std::string>> get_opt_string(const boost::json::object& o, std::string_view key);
result<std::vector<std::int64_t>> get_int_array(const boost::json::object& o, std::string_view key, std::size_t max_items);

// --- server frames
// {"type":"result","id":<id>,"data":<data>}
std::string result_frame(const boost::json::value& id, const boost::json::value& data);
// {"type":"error","id":<id>,"error":{"code":"...","message":"..."}}
std::string error_frame(const boost::json::value& id, const error& e);
// The JSON body of an HTTP error response: {"error":{"code":"...","message":"..."}}
std::string error_body(const error& e);
// The event object as JSON text: serialised once per event and shared by every recipient.
std::string event_json(const event& ev);
boost::json::object event_object(const event& ev);
// A non-message event's payload as a JSON object (the event's "data"), and as text for storage.
boost::json::object payload_object(const event_payload& p);
std::string payload_text(const event_payload& p);  // "" for monostate
// Reads a stored payload back; errc::internal names what is corrupt (a stored row, not user input).
result<event_payload> parse_payload(event_kind kind, std::string_view text);
// {"type":"event","pos":<pos>,"event":<event_json>}: built by splicing the shared event text.
std::string event_frame(std::int64_t pos, std::string_view event_json_text);
// The same frame in three parts, so that a recipient need not copy the event: writes the head
// {"type":"event","pos":<pos>,"event": into out (event_frame_head_max bytes) and returns its
// length; the frame is head + event_json_text + "}".
inline constexpr std::size_t event_frame_head_max = 56;
std::size_t event_frame_head(std::int64_t pos, char* out);

boost::json::object to_json(const conversation_summary& s);
boost::json::object to_json(const member_record& m);
boost::json::object to_json(const device_record& d);

}  // namespace confab::protocol
