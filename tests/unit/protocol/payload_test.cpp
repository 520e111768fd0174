// Typed event payloads: every kind round-trips through its stored text, and a corrupt stored
// payload is a typed error (errc::internal) naming what is wrong, never a crash or a guess.
#include "protocol/codec.hpp"

#include <gtest/gtest.h>

using namespace confab;
using namespace confab::protocol;

namespace {

void round_trip(event_kind kind, const event_payload& p) {
  auto text = payload_text(p);
  auto back = parse_payload(kind, text);
  ASSERT_TRUE(back) << to_string(kind) << ": " << back.error().message;
  EXPECT_EQ(*back, p) << to_string(kind) << " " << text;
}

TEST(payload, every_kind_round_trips) {
  round_trip(event_kind::created, created_payload{conv_kind::group, "Team \"A\"", {1, 2, 3}, 1});
  round_trip(event_kind::created, created_payload{conv_kind::direct, "", {4, 5}, std::nullopt});
  round_trip(event_kind::members_added, members_added_payload{{7, 8}, 1});
  round_trip(event_kind::member_removed, member_gone_payload{7, 1});
  round_trip(event_kind::member_left, member_gone_payload{7, 7});
  round_trip(event_kind::role_changed, role_changed_payload{2, conv_role::owner, 1, conv_role::admin});
  round_trip(event_kind::role_changed, role_changed_payload{2, conv_role::member, 1, std::nullopt});
  EXPECT_EQ(payload_text(event_payload{}), "");
  EXPECT_TRUE(parse_payload(event_kind::message, "anything"));
}

TEST(payload, corrupt_stored_payload_is_a_typed_error) {
  const std::pair<event_kind, const char*> bad[] = {
      {event_kind::created, ""},
      {event_kind::created, "[1]"},
      {event_kind::created, R"({"kind":"circle","members":[1]})"},
      {event_kind::created, R"({"kind":"group","members":[1,"x"]})"},
      {event_kind::members_added, R"({"users":[1]})"},
      {event_kind::member_removed, R"({"user":"5","by":1})"},
      {event_kind::role_changed, R"({"user":5,"by":1,"role":"king"})"},
      {event_kind::role_changed, R"({"user":5,"by":1,"role":""})"},
      {event_kind::role_changed, R"({"user":5,"by":1,"role":"admin","previous_owner_role":3})"},
      {event_kind::members_added, R"({"users":[[[[[[1]]]]]],"by":1})"},
  };
  for (auto& [kind, text] : bad) {
    auto r = parse_payload(kind, text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, errc::internal) << text;
  }
}

TEST(payload, kind_and_role_names_round_trip_and_unknown_names_are_refused) {
  for (auto k : {event_kind::message, event_kind::created, event_kind::members_added, event_kind::member_removed,
                 event_kind::member_left, event_kind::role_changed})
    EXPECT_EQ(parse_event_kind(to_string(k)), k);
  for (auto r : {conv_role::none, conv_role::member, conv_role::admin, conv_role::owner}) EXPECT_EQ(parse_role(to_string(r)), r);
  EXPECT_EQ(parse_conv_kind("direct"), conv_kind::direct);
  EXPECT_FALSE(parse_event_kind("Message"));
  EXPECT_FALSE(parse_role("king"));
  EXPECT_FALSE(parse_conv_kind(""));
}

TEST(payload, membership_change_reads_who_joins_and_leaves) {
  event ev;
  ev.kind = event_kind::members_added;
  ev.payload = members_added_payload{{3, 4}, 1};
  EXPECT_EQ(membership_change(ev).added, (std::vector<confab::id_t>{3, 4}));
  ev.kind = event_kind::member_left;
  ev.payload = member_gone_payload{3, 3};
  EXPECT_EQ(membership_change(ev).removed, (std::vector<confab::id_t>{3}));
  EXPECT_TRUE(membership_change(ev).added.empty());
}

}  // namespace

// ---- i11-changes: reaction, edited, deleted; a message's current state in its JSON

namespace {

TEST(payload, change_kinds_round_trip) {
  round_trip(event_kind::reaction, reaction_payload{12, "\xF0\x9F\x91\x8D", true, 3});
  round_trip(event_kind::reaction, reaction_payload{12, "\xF0\x9F\x91\x8D", false, 0});
  round_trip(event_kind::edited, edited_payload{12, "new \"text\""});
  round_trip(event_kind::edited, edited_payload{12, ""});
  round_trip(event_kind::deleted, deleted_payload{12, 3});
  for (auto k : {event_kind::reaction, event_kind::edited, event_kind::deleted}) EXPECT_EQ(parse_event_kind(to_string(k)), k);
}

TEST(payload, corrupt_change_payload_is_a_typed_error) {
  const std::pair<event_kind, const char*> bad[] = {
      {event_kind::reaction, R"({"emoji":"x","added":true})"},
      {event_kind::reaction, R"({"target":1,"added":true})"},
      {event_kind::reaction, R"({"target":1,"emoji":"x","added":1,"count":1})"},
      {event_kind::reaction, R"({"target":1,"emoji":"x","added":true})"},
      {event_kind::edited, R"({"target":1})"},
      {event_kind::edited, R"({"target":"1","text":""})"},
      {event_kind::deleted, R"({"target":1})"},
      {event_kind::deleted, "null"},
  };
  for (auto& [kind, text] : bad) {
    auto r = parse_payload(kind, text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, errc::internal) << text;
  }
}

TEST(payload, message_json_carries_its_current_state_only_when_set) {
  event ev;
  ev.kind = event_kind::message;
  ev.text = "hi";
  auto plain = event_object(ev);
  EXPECT_FALSE(plain.contains("edited_ts"));
  EXPECT_FALSE(plain.contains("deleted"));
  EXPECT_FALSE(plain.contains("reactions"));
  ev.edited_ms = 99;
  ev.reactions = {{"\xF0\x9F\x91\x8D", 2, true}, {"\xE2\x9D\xA4\xEF\xB8\x8F", 1, false}};
  auto o = event_object(ev);
  EXPECT_EQ(o.at("edited_ts").as_int64(), 99);
  ASSERT_EQ(o.at("reactions").as_array().size(), 2u);
  EXPECT_EQ(o.at("reactions").as_array()[0].as_object().at("count").as_int64(), 2);
  EXPECT_TRUE(o.at("reactions").as_array()[0].as_object().at("me").as_bool());
  EXPECT_FALSE(o.at("reactions").as_array()[1].as_object().at("me").as_bool());
  event gone;
  gone.deleted = true;
  auto g = event_object(gone);
  EXPECT_TRUE(g.at("deleted").as_bool());
  EXPECT_EQ(g.at("text").as_string(), "");
}

}  // namespace
