#include "peer.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <charconv>

namespace confab::bench {
namespace json = boost::json;

namespace {

// "<prefix><k>" -> k, or -1.
std::int64_t number_after(std::string_view s, char prefix) {
  std::int64_t k = -1;
  if (s.size() < 2 || s[0] != prefix) return -1;
  auto [end, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), k);
  return ec == std::errc{} && end == s.data() + s.size() ? k : -1;
}

// Keys the checker's per-conversation sequence by (room, sender).
std::int64_t check_key(std::int64_t room, std::int64_t from) { return room * 1'000'000'007 + from; }

}  // namespace

std::optional<protocol> parse_protocol(std::string_view name) {
  if (name == "confab") return protocol::confab;
  if (name == "ws-relay") return protocol::ws_relay;
  if (name == "socketio") return protocol::socketio;
  return std::nullopt;
}

std::vector<account> peer_accounts(int n) {
  std::vector<account> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<std::size_t>(i)].user_id = i + 1;
  return out;
}

std::vector<std::int64_t> peer_rooms(std::vector<account>& accts, int groups, int size) {
  std::vector<std::int64_t> rooms;
  for (int g = 0; g < groups; ++g) {
    rooms.push_back(g + 1);
    for (int m = 0; m < size; ++m) accts.at(static_cast<std::size_t>(g * size + m)).rooms.push_back(g + 1);
  }
  return rooms;
}

void device::peer_start() {
  synced_ = false;
  if (proto == protocol::socketio) return;  // the server speaks first (Engine.IO open packet)
  std::string f = R"({"op":"join","user":"u)" + std::to_string(acct_.user_id) + R"(","rooms":[)";
  for (std::size_t i = 0; i < acct_.rooms.size(); ++i) f += (i ? ",\"r" : "\"r") + std::to_string(acct_.rooms[i]) + '"';
  write(f + "]}");
}

void device::on_peer_frame(std::string_view text) {
  std::string_view body = text;
  if (proto == protocol::socketio) {
    // Engine.IO packet type, then (for "4" message) the Socket.IO packet type.
    if (text == "2") return write("3");  // ping -> pong, or the server closes the connection
    if (!text.empty() && text[0] == '0') return write("40");  // open -> connect to namespace "/"
    if (text.size() >= 2 && text[0] == '4' && text[1] == '0') {  // connected: join our rooms (ack id 0)
      std::string f = R"(420["join",{"user":"u)" + std::to_string(acct_.user_id) + R"(","rooms":[)";
      for (std::size_t i = 0; i < acct_.rooms.size(); ++i) f += (i ? ",\"r" : "\"r") + std::to_string(acct_.rooms[i]) + '"';
      return write(f + "]}]");
    }
    if (text.size() >= 3 && text[0] == '4' && text[1] == '3' && text[2] == '0') {  // the join's ack
      hello_done_ = true;
      hello_ok_ = synced_ = text.size() > 4 && text[3] == '[' && text[4] >= '0' && text[4] <= '9';
      return;
    }
    if (text.size() < 3 || text[0] != '4' || text[1] != '2') {  // disconnect, connect error, ...
      ++st_.protocol_errors;
      hello_done_ = true;
      return;
    }
    body = text.substr(2);  // ["event", {...}]
  }
  unsigned char scratch[4096];
  json::monotonic_resource mr(scratch, sizeof scratch);
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, &mr);
  if (ec) {
    ++st_.protocol_errors;
    return;
  }
  if (proto == protocol::ws_relay) {
    if (!v.is_object()) {
      ++st_.protocol_errors;
      return;
    }
    const auto& o = v.get_object();
    const auto* type = o.if_contains("type");
    if (!type || !type->is_string()) {
      ++st_.protocol_errors;
      return;
    }
    return on_peer_object(type->get_string(), o);
  }
  // socket.io: ["msg", {...}] or ["send_error", {...}]: the same objects as the ws relay's frames
  // without their "type".
  const auto* a = v.if_array();
  if (!a || a->size() != 2 || !(*a)[0].is_string() || !(*a)[1].is_object()) {
    ++st_.protocol_errors;
    return;
  }
  on_peer_object((*a)[0].get_string() == "send_error" ? "error" : std::string_view((*a)[0].get_string()), (*a)[1].get_object());
}

void device::on_peer_object(std::string_view t, const json::object& o) {
  if (t == "joined") {
    hello_done_ = hello_ok_ = synced_ = true;
    return;
  }
  const auto* idv = o.if_contains("id");
  const std::int64_t id = idv && idv->is_int64() ? idv->get_int64() : -1;
  if (t == "error") {
    if (pending_.erase(id)) ++st_.send_errors;
    else ++st_.protocol_errors;
    return;
  }
  if (t != "msg") {
    ++st_.protocol_errors;
    return;
  }
  const auto* room = o.if_contains("room");
  const auto* from = o.if_contains("from");
  const auto* text = o.if_contains("text");
  if (!room || !room->is_string() || !from || !from->is_string() || !text || !text->is_string()) {
    ++st_.protocol_errors;
    return;
  }
  const auto r = number_after(room->get_string(), 'r'), u = number_after(from->get_string(), 'u');
  // "b:<send ns>:<n>"
  const std::string_view body = text->get_string();
  std::int64_t sent = 0, n = 0;
  const auto colon = body.find(':', 2);
  if (r < 0 || u < 0 || body.size() < 2 || body[0] != 'b' || body[1] != ':' || colon == std::string_view::npos ||
      std::from_chars(body.data() + 2, body.data() + colon, sent).ec != std::errc{} ||
      std::from_chars(body.data() + colon + 1, body.data() + body.size(), n).ec != std::errc{}) {
    ++st_.protocol_errors;
    return;
  }
  if (!check_.on_event(check_.pos() + 1, check_key(r, u), n, st_.checks)) return;
  ++messages_;
  ++st_.deliveries;
  const auto now = now_ns();
  if (st_.record_latency) st_.deliver.record((now - sent) / 1000);
  if (u != acct_.user_id) return;
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ++st_.acks;
  if (st_.record_latency) st_.ack.record((now - it->second) / 1000);
  pending_.erase(it);
}

void device::peer_send(std::int64_t room) {
  const auto id = next_id_++;
  const auto t = now_ns();
  pending_.emplace(id, t);
  ++st_.sends;
  const auto n = ++peer_sent_[room];
  std::string f;
  f.reserve(128);
  f += proto == protocol::socketio ? R"(42["send",{"id":)" : R"({"op":"send","id":)";
  f += std::to_string(id);
  f += R"(,"room":"r)";
  f += std::to_string(room);
  f += R"(","text":"b:)";
  f += std::to_string(t);
  f += ':';
  f += std::to_string(n);
  f += proto == protocol::socketio ? R"("}])" : R"("})";
  write(std::move(f));
}

}  // namespace confab::bench
