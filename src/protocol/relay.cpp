#include "protocol/relay.hpp"

#include <algorithm>
#include <charconv>

namespace confab::protocol::relay {

namespace {

std::string ids_word(const std::vector<id_t>& v) {
  if (v.empty()) return "-";
  std::string s;
  for (auto x : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(x);
  }
  return s;
}

std::string recipients_word(const std::vector<recipient>& v) {
  if (v.empty()) return "-";
  std::string s;
  for (auto& r : v) {
    if (!s.empty()) s += ',';
    s += std::to_string(r.user_id);
    s += ':';
    s += std::to_string(r.pos);
  }
  return s;
}

error bad(errc c, std::string what) { return make_error(c, "relay: " + std::move(what)); }

// A whole word as a decimal integer >= min.
result<std::int64_t> number(std::string_view s, std::int64_t min, const char* what) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < min)
    return bad(errc::invalid_field, std::string("bad ") + what);
  return v;
}

result<bool> flag(std::string_view s) {
  if (s == "1") return true;
  if (s == "0") return false;
  return bad(errc::invalid_field, "bad flag");
}

// Calls item(piece) for each comma-separated piece of a list word ("-" is the empty list).
template <class F>
result<nothing> for_each_item(std::string_view s, F&& item) {
  if (s == "-") return nothing{};
  std::size_t n = 0;
  for (;;) {
    if (++n > max_list_items) return bad(errc::too_large, "list too long");
    auto comma = s.find(',');
    if (auto r = item(s.substr(0, comma)); !r) return r.error();
    if (comma == std::string_view::npos) return nothing{};
    s.remove_prefix(comma + 1);
  }
}

result<std::vector<id_t>> id_list(std::string_view s) {
  std::vector<id_t> out;
  auto r = for_each_item(s, [&](std::string_view piece) -> result<nothing> {
    auto v = number(piece, 1, "id");
    if (!v) return v.error();
    out.push_back(*v);
    return nothing{};
  });
  if (!r) return r.error();
  return out;
}

result<std::vector<recipient>> recipient_list(std::string_view s) {
  std::vector<recipient> out;
  auto r = for_each_item(s, [&](std::string_view piece) -> result<nothing> {
    auto colon = piece.find(':');
    if (colon == std::string_view::npos) return bad(errc::malformed, "recipient without position");
    auto u = number(piece.substr(0, colon), 1, "recipient");
    if (!u) return u.error();
    auto p = number(piece.substr(colon + 1), 1, "position");
    if (!p) return p.error();
    out.push_back({*u, *p});
    return nothing{};
  });
  if (!r) return r.error();
  return out;
}

// At most max words; more is an error (the caller checks the exact count per kind).
std::vector<std::string_view> words(std::string_view line, std::size_t max) {
  std::vector<std::string_view> w;
  while (w.size() <= max) {
    auto sp = line.find(' ');
    w.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return w;
}

using word_list = std::vector<std::string_view>;

bool query_kind(std::string_view k) {
  return !k.empty() && k.size() <= 32 && std::all_of(k.begin(), k.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; });
}

result<note> decode_event(const word_list& w, std::string_view body) {
  event_note n{std::string(w[1])};
  auto conv = number(w[2], 1, "conversation");
  if (!conv) return conv.error();
  auto kind = parse_event_kind(w[3]);
  if (!kind) return bad(errc::invalid_field, "unknown event kind");
  auto sender = number(w[4], 0, "sender");
  if (!sender) return sender.error();
  auto added = id_list(w[5]);
  if (!added) return added.error();
  auto removed = id_list(w[6]);
  if (!removed) return removed.error();
  auto to = recipient_list(w[7]);
  if (!to) return to.error();
  n.conv = *conv;
  n.kind = *kind;
  n.sender = *sender;
  n.added = std::move(*added);
  n.removed = std::move(*removed);
  n.to = std::move(*to);
  n.event_json = std::string(body);
  return note{std::move(n)};
}

result<note> decode_typing(const word_list& w) {
  auto conv = number(w[2], 1, "conversation");
  if (!conv) return conv.error();
  auto user = number(w[3], 1, "user");
  if (!user) return user.error();
  auto active = flag(w[4]);
  if (!active) return active.error();
  typing_note n{std::string(w[1]), *conv, *user, *active, std::string(w[5]), std::nullopt};
  if (w.size() == 7) {  // issue 11: the thread's root
    auto thread = number(w[6], 1, "thread");
    if (!thread) return thread.error();
    n.thread = *thread;
  }
  return note{std::move(n)};
}

result<note> decode_presence(const word_list& w) {
  auto user = number(w[2], 1, "user");
  if (!user) return user.error();
  auto online = flag(w[3]);
  if (!online) return online.error();
  presence_note n{std::string(w[1]), *user, *online, std::nullopt};
  if (w[4] != "-") {
    auto ts = number(w[4], 0, "last seen");
    if (!ts) return ts.error();
    n.last_seen = *ts;
  }
  return note{std::move(n)};
}

}  // namespace

bool event_note::operator==(const event_note& o) const {
  return node == o.node && conv == o.conv && kind == o.kind && sender == o.sender && added == o.added &&
         removed == o.removed && event_json == o.event_json && channel_seq == o.channel_seq && trace == o.trace &&
         std::equal(to.begin(), to.end(), o.to.begin(), o.to.end(),
                    [](const recipient& a, const recipient& b) { return a.user_id == b.user_id && a.pos == b.pos; });
}

std::string encode(const event_note& n) {
  return (n.channel_seq > 0 ? "C " : "E ") + n.node + ' ' + std::to_string(n.conv) + ' ' + std::string(to_string(n.kind)) + ' ' +
         std::to_string(n.sender) + ' ' + ids_word(n.added) + ' ' + ids_word(n.removed) + ' ' + recipients_word(n.to) +
         (n.channel_seq > 0 ? ' ' + std::to_string(n.channel_seq) : std::string()) +
         (n.trace > 0 ? " t" + std::to_string(n.trace) : std::string()) + '\n' + n.event_json;
}

std::string encode(const typing_note& n) {
  return "T " + n.node + ' ' + std::to_string(n.conv) + ' ' + std::to_string(n.user) + ' ' + (n.active ? "1 " : "0 ") +
         n.username + (n.thread ? ' ' + std::to_string(*n.thread) : std::string()) + '\n';
}

std::string encode(const receipt_note& n) { return "R " + n.node + ' ' + std::to_string(n.conv) + '\n' + n.frame; }

std::string encode(const presence_note& n) {
  return "P " + n.node + ' ' + std::to_string(n.user) + ' ' + (n.online ? "1 " : "0 ") +
         (n.last_seen ? std::to_string(*n.last_seen) : "-") + '\n';
}

std::string encode(const resync_note& n) { return "X " + n.node + '\n'; }

std::string encode(const kick_note& n) { return "K " + n.node + ' ' + std::to_string(n.device) + '\n'; }

std::string encode(const query_note& n) {
  return "Q " + n.node + ' ' + std::to_string(n.id) + ' ' + n.kind + '\n' + n.args;
}

std::string encode(const answer_note& n) {
  return "A " + n.node + ' ' + n.to + ' ' + std::to_string(n.id) + '\n' + n.body;
}

std::string encode(const note& n) {
  return std::visit([](const auto& x) { return encode(x); }, n);
}

std::string_view sender_of(std::string_view payload) {
  auto line = payload.substr(0, payload.find('\n'));
  auto sp = line.find(' ');
  if (sp == std::string_view::npos) return {};
  line.remove_prefix(sp + 1);
  return line.substr(0, line.find(' '));
}

result<note> decode(std::string_view payload) {
  if (payload.size() > max_payload_bytes) return bad(errc::too_large, "payload too large");
  auto nl = payload.find('\n');
  if (nl == std::string_view::npos) return bad(errc::malformed, "no header line");
  const auto body = payload.substr(nl + 1);
  const auto w = words(payload.substr(0, nl), 10);
  if (w.size() < 2 || w[0].size() != 1 || w[1].empty()) return bad(errc::malformed, "bad header");
  auto count = [&](std::size_t n) { return w.size() == n; };
  auto empty_body = [&] { return body.empty(); };
  switch (w[0][0]) {
    case 'E':
    case 'C': {  // issue 12: C is a channel's event, with its seq
      const std::size_t base = w[0][0] == 'E' ? 8 : 9;
      const bool traced = count(base + 1) && w[base].starts_with('t');  // issue 17
      if (!count(base) && !traced) break;
      auto n = decode_event(w, body);
      if (!n) return n;
      auto& ev = std::get<event_note>(*n);
      if (base == 9) {
        auto seq = number(w[8], 1, "seq");
        if (!seq) return seq.error();
        ev.channel_seq = *seq;
      }
      if (traced) {
        auto id = number(w[base].substr(1), 1, "trace id");
        if (!id) return id.error();
        ev.trace = *id;
      }
      return n;
    }
    case 'T':
      if ((count(6) || count(7)) && empty_body() && !w[5].empty()) return decode_typing(w);
      break;
    case 'R':
      if (count(3)) {
        auto conv = number(w[2], 1, "conversation");
        if (!conv) return conv.error();
        return note{receipt_note{std::string(w[1]), *conv, std::string(body)}};
      }
      break;
    case 'P':
      if (count(5) && empty_body()) return decode_presence(w);
      break;
    case 'X':
      if (count(2) && empty_body()) return note{resync_note{std::string(w[1])}};
      break;
    case 'K':
      if (count(3) && empty_body()) {
        auto device = number(w[2], 1, "device");
        if (!device) return device.error();
        return note{kick_note{std::string(w[1]), *device}};
      }
      break;
    case 'Q':  // issue 17: a cluster query
      if (count(4)) {
        auto id = number(w[2], 1, "query id");
        if (!id) return id.error();
        if (!query_kind(w[3])) return bad(errc::invalid_field, "bad query kind");
        return note{query_note{std::string(w[1]), *id, std::string(w[3]), std::string(body)}};
      }
      break;
    case 'A':
      if (count(4) && !w[2].empty()) {
        auto id = number(w[3], 1, "query id");
        if (!id) return id.error();
        return note{answer_note{std::string(w[1]), std::string(w[2]), *id, std::string(body)}};
      }
      break;
    default:
      return bad(errc::malformed, "unknown kind");
  }
  return bad(errc::malformed, "wrong number of words");
}

}  // namespace confab::protocol::relay
