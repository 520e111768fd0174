// Moderation, pure parts: the rules (settings, pins, mutes, bans, posting under the settings),
// the moderation events' payloads, the error codes and an error's retry_after_ms on the wire.
#include "chat/rules.hpp"
#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

using namespace confab;
using namespace confab::chat;

namespace {

const member_view none{conv_role::none}, member{conv_role::member}, admin{conv_role::admin}, owner{conv_role::owner};
constexpr std::int64_t now = 1'700'000'000'000;

errc code(const result<nothing>& r) { return r ? errc{} : r.error().code; }

member_view muted(conv_role r, std::int64_t until) {
  member_view v{r};
  v.muted_until_ms = until;
  return v;
}

TEST(moderation_rules, settings_are_for_owners_and_admins_of_groups) {
  EXPECT_TRUE(may_change_settings(conv_kind::group, owner));
  EXPECT_TRUE(may_change_settings(conv_kind::group, admin));
  EXPECT_EQ(code(may_change_settings(conv_kind::group, member)), errc::forbidden);
  EXPECT_EQ(code(may_change_settings(conv_kind::group, none)), errc::forbidden);
  EXPECT_EQ(code(may_change_settings(conv_kind::direct, member)), errc::forbidden);
}

TEST(moderation_rules, pins_follow_the_policy_and_a_mute) {
  EXPECT_EQ(code(may_pin(conv_kind::group, member, conv_policy::admins, now)), errc::forbidden);
  EXPECT_TRUE(may_pin(conv_kind::group, member, conv_policy::everyone, now));
  EXPECT_TRUE(may_pin(conv_kind::group, admin, conv_policy::admins, now));
  EXPECT_TRUE(may_pin(conv_kind::direct, member, conv_policy::admins, now));  // no roles there
  EXPECT_EQ(code(may_pin(conv_kind::group, none, conv_policy::everyone, now)), errc::forbidden);
  EXPECT_EQ(code(may_pin(conv_kind::group, muted(conv_role::admin, now + 1), conv_policy::admins, now)), errc::forbidden);
  EXPECT_TRUE(may_pin(conv_kind::group, muted(conv_role::admin, now), conv_policy::admins, now));  // ended
}

TEST(moderation_rules, moderation_needs_a_higher_rank) {
  EXPECT_TRUE(may_moderate(conv_kind::group, admin, false, member));
  EXPECT_TRUE(may_moderate(conv_kind::group, admin, false, none));  // a non-member ranks lowest
  EXPECT_TRUE(may_moderate(conv_kind::group, owner, false, admin));
  EXPECT_EQ(code(may_moderate(conv_kind::group, admin, false, admin)), errc::forbidden);
  EXPECT_EQ(code(may_moderate(conv_kind::group, admin, false, owner)), errc::forbidden);
  EXPECT_EQ(code(may_moderate(conv_kind::group, member, false, none)), errc::forbidden);
  EXPECT_EQ(code(may_moderate(conv_kind::group, none, false, member)), errc::forbidden);
  EXPECT_EQ(code(may_moderate(conv_kind::group, owner, true, owner)), errc::invalid_field);
  EXPECT_EQ(code(may_moderate(conv_kind::direct, member, false, member)), errc::forbidden);
  member_view banned{conv_role::none};
  banned.banned = true;
  EXPECT_EQ(code(may_be_added(banned, 7)), errc::forbidden);
  EXPECT_NE(may_be_added(banned, 7).error().message.find("7"), std::string::npos);
  EXPECT_TRUE(may_be_added(none, 7));
}

TEST(moderation_rules, posting_under_policy_mute_and_slow_mode) {
  const post_settings open{}, announce{conv_policy::admins, 0}, slow{conv_policy::everyone, 30};
  EXPECT_TRUE(may_post_under(open, member, std::nullopt, now));
  EXPECT_EQ(code(may_post_under(announce, member, std::nullopt, now)), errc::forbidden);
  EXPECT_TRUE(may_post_under(announce, admin, std::nullopt, now));
  EXPECT_EQ(code(may_post_under(open, muted(conv_role::member, now + 5), std::nullopt, now)), errc::forbidden);
  // Slow mode: the wait is what remains of the interval.
  auto r = may_post_under(slow, member, now - 10'000, now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::slow_mode);
  EXPECT_EQ(r.error().retry_after_ms, 20'000);
  EXPECT_NE(r.error().message.find("20000 ms"), std::string::npos);
  EXPECT_TRUE(may_post_under(slow, member, now - 30'000, now));
  EXPECT_TRUE(may_post_under(slow, member, std::nullopt, now));
  EXPECT_TRUE(may_post_under(slow, admin, now - 1, now));  // exempt
  EXPECT_TRUE(may_post_under(slow, owner, now - 1, now));
  EXPECT_TRUE(slow_mode_applies(slow, member));
  EXPECT_FALSE(slow_mode_applies(slow, admin));
  EXPECT_FALSE(slow_mode_applies(open, member));
}

void round_trip(event_kind kind, const event_payload& p) {
  auto text = protocol::payload_text(p);
  auto back = protocol::parse_payload(kind, text);
  ASSERT_TRUE(back) << to_string(kind) << ": " << back.error().message;
  EXPECT_EQ(*back, p) << to_string(kind) << " " << text;
}

TEST(moderation_payload, every_kind_round_trips_with_only_the_fields_set) {
  settings_payload all{1, "T \"x\"", "d\n", conv_policy::admins, conv_policy::everyone, 40, 0};
  round_trip(event_kind::settings_changed, all);
  settings_payload one;
  one.by = 2;
  one.slow_mode_s = 10;
  round_trip(event_kind::settings_changed, one);
  EXPECT_EQ(boost::json::parse(protocol::payload_text(one)), boost::json::parse(R"({"by":2,"slow_mode_s":10})"));
  round_trip(event_kind::pinned, pin_payload{12, 3});
  round_trip(event_kind::unpinned, pin_payload{12, 3});
  round_trip(event_kind::member_muted, moderation_payload{4, 1, 1'700'000'060'000});
  EXPECT_EQ(boost::json::parse(protocol::payload_text(moderation_payload{4, 1, 99})),
            boost::json::parse(R"({"user":4,"by":1,"until":99})"));
  for (auto k : {event_kind::member_unmuted, event_kind::member_banned, event_kind::member_unbanned})
    round_trip(k, moderation_payload{4, 1, std::nullopt});
  for (auto k : {event_kind::settings_changed, event_kind::pinned, event_kind::unpinned, event_kind::member_muted,
                 event_kind::member_unmuted, event_kind::member_banned, event_kind::member_unbanned})
    EXPECT_EQ(parse_event_kind(to_string(k)), k);
}

TEST(moderation_payload, corrupt_stored_payload_is_a_typed_error) {
  const std::pair<event_kind, const char*> bad[] = {
      {event_kind::settings_changed, R"({"title":"x"})"},
      {event_kind::settings_changed, R"({"by":1,"post_policy":"mods"})"},
      {event_kind::settings_changed, R"({"by":1,"slow_mode_s":"5"})"},
      {event_kind::pinned, R"({"by":1})"},
      {event_kind::member_muted, R"({"user":1,"by":2})"},
      {event_kind::member_banned, R"({"user":"1","by":2})"},
  };
  for (auto& [kind, text] : bad) {
    auto r = protocol::parse_payload(kind, text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, errc::internal) << text;
  }
}

TEST(moderation_payload, a_ban_is_a_removal) {
  event ev;
  ev.kind = event_kind::member_banned;
  ev.payload = moderation_payload{5, 1, std::nullopt};
  EXPECT_EQ(membership_change(ev).removed, std::vector<confab::id_t>{5});
  ev.kind = event_kind::member_unbanned;
  EXPECT_TRUE(membership_change(ev).removed.empty());
  ev.kind = event_kind::member_muted;
  EXPECT_TRUE(membership_change(ev).removed.empty());
}

TEST(moderation_errors, codes_and_retry_after_on_the_wire) {
  EXPECT_EQ(error_name(errc::slow_mode), "slow_mode");
  EXPECT_EQ(error_name(errc::limit_reached), "limit_reached");
  EXPECT_EQ(http_status(errc::slow_mode), 429u);
  EXPECT_EQ(http_status(errc::limit_reached), 409u);
  EXPECT_FALSE(retryable(errc::slow_mode));
  auto e = make_error(errc::slow_mode, "wait");
  e.retry_after_ms = 1500;
  auto body = boost::json::parse(protocol::error_body(e));
  EXPECT_EQ(body.at("error").at("retry_after_ms").as_int64(), 1500);
  auto frame = boost::json::parse(protocol::error_frame(7, e));
  EXPECT_EQ(frame.at("error").at("retry_after_ms").as_int64(), 1500);
  EXPECT_FALSE(boost::json::parse(protocol::error_body(make_error(errc::forbidden, "x"))).at("error").as_object().contains("retry_after_ms"));
}

}  // namespace
