// libFuzzer target for what a client sends: a WebSocket frame (protocol::parse_frame) read into a
// typed request (protocol::decode) with every kind of field, and an HTTP body (parse_body); and for
// the stored event payloads (protocol::parse_payload), read back from rows. Every input must parse
// or fail with a typed error, never crash, hang or grow without bound; a payload that parses must
// encode back to text that parses to the same payload.
//
// Built only with clang (tests/CMakeLists.txt). Run, e.g.:
//   mkdir -p /tmp/frame-corpus
//   build/clang/tests/fuzz/frame_fuzz -max_total_time=60 /tmp/frame-corpus tests/fuzz/corpus/frame
#include "protocol/codec.hpp"
#include "protocol/decode.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

struct every_kind {
  std::int64_t conv;
  confab::protocol::bytes<1, 64> client_id;
  std::string text;
  std::optional<confab::protocol::bytes<1, 128>> content_type;
  std::optional<confab::protocol::int_range<1, 100>> limit;
  std::optional<bool> active;
  std::optional<confab::protocol::id_list<256>> users;
};
BOOST_DESCRIBE_STRUCT(every_kind, (), (conv, client_id, text, content_type, limit, active, users))

void check(const confab::error& e) {
  if (e.code == confab::errc::ok) std::abort();  // an error must say what kind
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace confab;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  if (auto f = protocol::parse_frame(in, 64 * 1024)) {
    auto req = protocol::decode<every_kind>(f->args);
    if (!req) check(req.error());
  } else {
    check(f.error());
  }
  if (auto b = protocol::parse_body(in, 64 * 1024); !b) check(b.error());
  for (auto k : {event_kind::created, event_kind::members_added, event_kind::member_removed, event_kind::role_changed,
                 event_kind::reaction, event_kind::edited, event_kind::deleted, event_kind::settings_changed,
                 event_kind::pinned, event_kind::member_muted, event_kind::member_banned}) {
    auto p = protocol::parse_payload(k, in);
    if (!p) {
      check(p.error());
      continue;
    }
    auto again = protocol::parse_payload(k, protocol::payload_text(*p));
    if (!again || !(*again == *p)) std::abort();
  }
  return 0;
}
