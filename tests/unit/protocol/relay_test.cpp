// The node-to-node relay format: every note survives encode + decode unchanged, and bad input of
// each kind is a typed error (never a crash, never a partly filled note).
#include "protocol/relay.hpp"

#include <gtest/gtest.h>

using namespace confab;
using namespace confab::protocol::relay;

namespace {

note round_trip(const note& n) {
  auto text = encode(n);
  auto back = decode(text);
  EXPECT_TRUE(back) << text << " -> " << (back ? "" : back.error().message);
  return back ? *back : note{};
}

errc code_of(std::string_view payload) {
  auto r = decode(payload);
  EXPECT_FALSE(r) << "decoded: " << payload;
  return r ? errc::ok : r.error().code;
}

}  // namespace

TEST(relay, every_note_round_trips) {
  const std::vector<note> notes = {
      event_note{"0123456789abcdef", 7, event_kind::message, 3, {}, {}, {{3, 10}, {4, 2}}, R"({"seq":1,"text":"a b\nc"})"},
      event_note{"n1", 8, event_kind::members_added, 3, {5, 6}, {}, {{3, 11}, {5, 1}, {6, 1}}, "{}"},
      event_note{"n1", 8, event_kind::member_removed, 3, {}, {5}, {}, ""},
      typing_note{"n2", 7, 3, true, "ana"},
      typing_note{"n2", 7, 3, false, "ben_9"},
      typing_note{"n2", 7, 3, true, "ana", 12},  // issue 11: typing in a thread
      receipt_note{"n3", 7, R"({"type":"receipt","conv":7})"},
      receipt_note{"n3", 7, ""},
      presence_note{"n4", 3, true, std::nullopt},
      presence_note{"n4", 3, false, 1764550000123},
      presence_note{"n4", 3, false, 0},
      resync_note{"n5"},
      kick_note{"n6", 42},
      [] {  // issue 17: a traced message, plain and in a channel
        event_note e{"n1", 7, event_kind::message, 3, {}, {}, {{3, 10}}, "{}"};
        e.trace = 123456789012345;
        return e;
      }(),
      [] {
        event_note e{"n1", 7, event_kind::message, 3, {}, {}, {}, "{}"};
        e.channel_seq = 9;
        e.trace = 5;
        return e;
      }(),
      query_note{"n7", 1, "node", "{}"},                          // issue 17: cluster queries
      query_note{"n7", 99, "user_sessions", R"({"user":5})"},
      answer_note{"n8", "n7", 99, R"({"sessions":[]})"},
      answer_note{"n8", "n7", 1, ""},
  };
  for (const auto& n : notes) EXPECT_EQ(round_trip(n), n) << encode(n);
}

TEST(relay, reads_the_format_other_nodes_write) {
  // The exact bytes nodes exchange (docs/architecture.md): a rolling upgrade mixes versions.
  auto e = decode("E abc 7 message 3 - - 3:10,4:2\n{\"x\":1}");
  ASSERT_TRUE(e);
  const auto& ev = std::get<event_note>(*e);
  EXPECT_EQ(ev.node, "abc");
  EXPECT_EQ(ev.to.size(), 2u);
  EXPECT_EQ(ev.to[1].user_id, 4);
  EXPECT_EQ(ev.to[1].pos, 2);
  EXPECT_EQ(ev.event_json, "{\"x\":1}");
  EXPECT_EQ(encode(std::get<event_note>(*e)), "E abc 7 message 3 - - 3:10,4:2\n{\"x\":1}");
  EXPECT_EQ(encode(presence_note{"n", 5, false, 99}), "P n 5 0 99\n");
  EXPECT_EQ(sender_of("P n9 5 0 99\n"), "n9");
  EXPECT_EQ(sender_of("P\n"), "");
  EXPECT_EQ(sender_of(""), "");
}

// issue 11: a typing note may name the thread's root; the six-word form stays valid, and a bad
// seventh word is a typed error.
TEST(relay, typing_in_a_thread) {
  auto t = decode("T n2 7 3 1 ana 12\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(std::get<typing_note>(*t).thread, std::optional<std::int64_t>(12));
  EXPECT_EQ(encode(std::get<typing_note>(*t)), "T n2 7 3 1 ana 12\n");
  auto plain = decode("T n2 7 3 1 ana\n");
  ASSERT_TRUE(plain);
  EXPECT_EQ(std::get<typing_note>(*plain).thread, std::nullopt);
  EXPECT_EQ(code_of("T n2 7 3 1 ana 0\n"), errc::invalid_field);
  EXPECT_EQ(code_of("T n2 7 3 1 ana x\n"), errc::invalid_field);
  EXPECT_EQ(code_of("T n2 7 3 1 ana 12 13\n"), errc::malformed);
}

TEST(relay, truncated_payloads_are_malformed) {
  const std::string full = encode(event_note{"n1", 8, event_kind::members_added, 3, {5, 6}, {}, {{3, 11}, {5, 1}}, "{}"});
  // Every prefix that cuts the header line is refused; a cut body is the event text's business.
  for (std::size_t i = 0; i < full.find('\n'); ++i) {
    auto r = decode(std::string_view(full).substr(0, i));
    EXPECT_FALSE(r) << "prefix of " << i << " bytes decoded";
  }
  EXPECT_EQ(code_of(""), errc::malformed);
  EXPECT_EQ(code_of("E n1 8 message 3 - -\n"), errc::malformed);  // a word short
  EXPECT_EQ(code_of("T n1 7 3 1\n"), errc::malformed);
  EXPECT_EQ(code_of("P n1 3 1\n"), errc::malformed);
  EXPECT_EQ(code_of("K n1\n"), errc::malformed);
  EXPECT_EQ(code_of("X\n"), errc::malformed);
  EXPECT_EQ(code_of("X n1"), errc::malformed);  // no newline
}

TEST(relay, wrong_types_are_invalid_fields) {
  EXPECT_EQ(code_of("E n1 seven message 3 - - -\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("E n1 7 message 3 5,x - -\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("E n1 7 message 3 - - 3:\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("E n1 7 message 3 - - 3:1,\n{}"), errc::malformed);       // empty item
  EXPECT_EQ(code_of("E n1 7 message 3 - - 3-1\n{}"), errc::malformed);        // no colon
  EXPECT_EQ(code_of("E n1 7 message 3 - - -3:1\n{}"), errc::invalid_field);   // negative id
  EXPECT_EQ(code_of("E n1 7 message 3 - - 3:0\n{}"), errc::invalid_field);    // position 0
  EXPECT_EQ(code_of("E n1 7 message 3 - - 3:99999999999999999999\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("E n1 0 message 3 - - -\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("T n1 7 3 yes ana\n"), errc::invalid_field);
  EXPECT_EQ(code_of("T n1 7 3 1 ana\nbody"), errc::malformed);
  EXPECT_EQ(code_of("P n1 3 1 -5\n"), errc::invalid_field);
  EXPECT_EQ(code_of("P n1 3 2 -\n"), errc::invalid_field);
  EXPECT_EQ(code_of("K n1 0x10\n"), errc::invalid_field);
  EXPECT_EQ(code_of("R n1 +7\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("Q n1\n"), errc::malformed);
  EXPECT_EQ(code_of("E n1 7 message 3 - - - t0\n{}"), errc::invalid_field);   // trace id 0
  EXPECT_EQ(code_of("E n1 7 message 3 - - - tx\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("E n1 7 message 3 - - - 5\n{}"), errc::malformed);       // not a trace word
  EXPECT_EQ(code_of("C n1 7 message 3 - - - 4 t1 t2\n{}"), errc::malformed);
  EXPECT_EQ(encode(std::get<event_note>(*decode("C n1 7 message 3 - - - 4 t12\n{}"))), "C n1 7 message 3 - - - 4 t12\n{}");
  EXPECT_EQ(code_of("Q n1 0 node\n{}"), errc::invalid_field);      // query id 0
  EXPECT_EQ(code_of("Q n1 3 Node\n{}"), errc::invalid_field);      // kind: a-z and _ only
  EXPECT_EQ(code_of("Q n1 3 n0de\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("Q n1 3 " + std::string(33, 'a') + "\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("Q n1 3\n{}"), errc::malformed);
  EXPECT_EQ(code_of("A n1 n2 x\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("A n1  3\n{}"), errc::malformed);  // empty target node
  EXPECT_EQ(code_of("A n1 n2\n{}"), errc::malformed);
  EXPECT_EQ(code_of("EE n1 7\n"), errc::malformed);
  EXPECT_EQ(code_of("E  7 message 3 - - -\n{}"), errc::malformed);  // empty node id
  EXPECT_EQ(code_of("E n1 7  3 - - -\n{}"), errc::invalid_field);  // empty kind
  EXPECT_EQ(code_of("E n1 7 sticker 3 - - -\n{}"), errc::invalid_field);  // a kind this build does not know
}

TEST(relay, huge_counts_are_refused_without_unbounded_memory) {
  // A header of far more words than any kind has stops at the first extra word.
  std::string many = "E";
  for (int i = 0; i < 100000; ++i) many += " 1";
  EXPECT_EQ(code_of(many + "\n"), errc::malformed);
  // A list longer than max_list_items is too_large (each item costs at least two bytes).
  std::string list;
  list.reserve(2 * max_list_items + 8);
  for (std::size_t i = 0; i <= max_list_items; ++i) list += i ? ",1" : "1";
  EXPECT_EQ(code_of("E n1 7 members_added 3 " + list + " - -\n{}"), errc::too_large);
  // A payload over the size limit is refused before it is read.
  std::string big(max_payload_bytes + 1, 'x');
  big.replace(0, 5, "X n1\n");
  EXPECT_EQ(code_of(big), errc::too_large);
}

// issue 12: a channel's event (C) carries its seq after the E fields; its absence, a bad seq or an
// extra word is refused.
TEST(relay, channel_events_carry_their_seq) {
  event_note n{"n1", 21, event_kind::message, 3, {}, {}, {}, R"({"seq":5})"};
  n.channel_seq = 5;
  EXPECT_EQ(encode(n), "C n1 21 message 3 - - - 5\n{\"seq\":5}");
  EXPECT_EQ(round_trip(n), note{n});
  event_note join{"n1", 21, event_kind::members_added, 4, {4}, {}, {{4, 9}}, "{}"};
  join.channel_seq = 6;
  EXPECT_EQ(round_trip(join), note{join});
  EXPECT_EQ(code_of("C n1 21 message 3 - - -\n{}"), errc::malformed);        // no seq
  EXPECT_EQ(code_of("C n1 21 message 3 - - - 0\n{}"), errc::invalid_field);  // seqs start at 1
  EXPECT_EQ(code_of("C n1 21 message 3 - - - x\n{}"), errc::invalid_field);
  EXPECT_EQ(code_of("C n1 21 message 3 - - - 5 6\n{}"), errc::malformed);
  EXPECT_EQ(code_of("E n1 21 message 3 - - - 5\n{}"), errc::malformed);  // E has no seq word
}
