// The conversation rules: who may post, add, remove, leave and change roles.
#include "chat/rules.hpp"

#include <gtest/gtest.h>

using namespace confab;
using namespace confab::chat;

namespace {

const member_view none{conv_role::none}, member{conv_role::member}, admin{conv_role::admin}, owner{conv_role::owner};

errc code(const result<nothing>& r) { return r ? errc{} : r.error().code; }

TEST(rules, only_active_members_post) {
  EXPECT_TRUE(may_post(member));
  EXPECT_EQ(code(may_post(none)), errc::forbidden);
}

TEST(rules, admins_and_owners_add_members_to_groups_only) {
  EXPECT_TRUE(may_add_members(conv_kind::group, admin));
  EXPECT_TRUE(may_add_members(conv_kind::group, owner));
  EXPECT_EQ(code(may_add_members(conv_kind::group, member)), errc::forbidden);
  EXPECT_EQ(code(may_add_members(conv_kind::direct, owner)), errc::forbidden);
  EXPECT_EQ(code(may_add_members(conv_kind::group, none)), errc::forbidden);
}

TEST(rules, removal_needs_a_higher_rank) {
  EXPECT_TRUE(may_remove(conv_kind::group, admin, member));
  EXPECT_TRUE(may_remove(conv_kind::group, owner, admin));
  EXPECT_EQ(code(may_remove(conv_kind::group, admin, admin)), errc::forbidden);
  EXPECT_EQ(code(may_remove(conv_kind::group, admin, owner)), errc::forbidden);
  EXPECT_EQ(code(may_remove(conv_kind::group, member, member)), errc::forbidden);
  EXPECT_EQ(code(may_remove(conv_kind::group, owner, none)), errc::not_found);
  EXPECT_EQ(code(may_remove(conv_kind::direct, owner, member)), errc::forbidden);
}

TEST(rules, an_owner_leaves_only_when_alone) {
  EXPECT_TRUE(may_leave(conv_kind::group, member, 5));
  EXPECT_TRUE(may_leave(conv_kind::group, owner, 1));
  EXPECT_EQ(code(may_leave(conv_kind::group, owner, 2)), errc::forbidden);
  EXPECT_EQ(code(may_leave(conv_kind::direct, member, 2)), errc::forbidden);
  EXPECT_EQ(code(may_leave(conv_kind::group, none, 2)), errc::forbidden);
}

TEST(rules, only_the_owner_changes_roles_of_other_active_members) {
  EXPECT_TRUE(may_set_role(conv_kind::group, owner, false, member));
  EXPECT_EQ(code(may_set_role(conv_kind::group, admin, false, member)), errc::forbidden);
  EXPECT_EQ(code(may_set_role(conv_kind::group, owner, true, owner)), errc::invalid_field);
  EXPECT_EQ(code(may_set_role(conv_kind::group, owner, false, none)), errc::not_found);
  EXPECT_EQ(code(may_set_role(conv_kind::direct, owner, false, member)), errc::forbidden);
}

// issue 11: @all/@here up to the limit for anyone; above it, owners and admins only.
TEST(rules, wildcard_mentions_above_the_limit_need_an_owner_or_admin) {
  EXPECT_TRUE(may_mention_everyone(member, 15, 15));
  EXPECT_EQ(code(may_mention_everyone(member, 16, 15)), errc::forbidden);
  EXPECT_TRUE(may_mention_everyone(admin, 16, 15));
  EXPECT_TRUE(may_mention_everyone(owner, 1000, 15));
  EXPECT_EQ(code(may_mention_everyone(none, 2, 15)), errc::forbidden);
  EXPECT_EQ(code(may_mention_everyone(member, 1, 0)), errc::forbidden);
}

}  // namespace

// ---- i11-changes: reactions, edits and deletes

namespace {

const message_view msg_by_7{event_kind::message, 7, 1000, false};
const message_view deleted_by_7{event_kind::message, 7, 1000, true};
const message_view join_event{event_kind::members_added, 7, 1000, false};

TEST(rules, reactions_need_an_active_member_and_a_live_message) {
  EXPECT_TRUE(may_react(member, &msg_by_7, 0));
  EXPECT_EQ(code(may_react(none, &msg_by_7, 0)), errc::forbidden);
  EXPECT_EQ(code(may_react(none, nullptr, 0)), errc::forbidden);  // membership first: nothing leaks to strangers
  EXPECT_EQ(code(may_react(member, nullptr, 0)), errc::not_found);
  EXPECT_EQ(code(may_react(member, &join_event, 0)), errc::invalid_field);
  EXPECT_EQ(code(may_react(member, &deleted_by_7, 0)), errc::not_found);
}

TEST(rules, a_muted_member_neither_reacts_nor_edits_until_the_mute_ends) {
  member_view muted = member;
  muted.muted_until_ms = 5000;
  EXPECT_EQ(code(may_react(muted, &msg_by_7, 4999)), errc::forbidden);
  EXPECT_TRUE(may_react(muted, &msg_by_7, 5000));
  EXPECT_EQ(code(may_edit(muted, 7, &msg_by_7, 4999, 0)), errc::forbidden);
  EXPECT_TRUE(may_edit(muted, 7, &msg_by_7, 5000, 0));
  EXPECT_TRUE(may_delete(conv_kind::group, muted, 7, &msg_by_7)) << "a mute never stops taking content down";
}

TEST(rules, a_new_emoji_may_not_pass_the_limit_but_joining_one_may) {
  EXPECT_TRUE(may_add_reaction(19, false, 20));
  EXPECT_EQ(code(may_add_reaction(20, false, 20)), errc::conflict);
  EXPECT_TRUE(may_add_reaction(20, true, 20));
}

TEST(rules, only_the_sender_edits_within_the_window) {
  EXPECT_TRUE(may_edit(member, 7, &msg_by_7, 1'000'000, 0));  // 0: no window
  EXPECT_EQ(code(may_edit(owner, 8, &msg_by_7, 1000, 0)), errc::forbidden);
  EXPECT_TRUE(may_edit(member, 7, &msg_by_7, 1000 + 60'000, 60'000));
  auto late = may_edit(member, 7, &msg_by_7, 1000 + 60'001, 60'000);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, errc::forbidden);
  EXPECT_NE(late.error().message.find("60 s"), std::string::npos) << late.error().message;
  EXPECT_EQ(code(may_edit(none, 7, &msg_by_7, 1000, 0)), errc::forbidden);
  EXPECT_EQ(code(may_edit(member, 7, &deleted_by_7, 1000, 0)), errc::not_found);
  EXPECT_EQ(code(may_edit(member, 7, &join_event, 1000, 0)), errc::invalid_field);
}

TEST(rules, the_sender_or_a_group_admin_deletes) {
  EXPECT_TRUE(may_delete(conv_kind::group, member, 7, &msg_by_7));
  EXPECT_TRUE(may_delete(conv_kind::direct, member, 7, &msg_by_7));
  EXPECT_TRUE(may_delete(conv_kind::group, admin, 8, &msg_by_7));
  EXPECT_TRUE(may_delete(conv_kind::group, owner, 8, &msg_by_7));
  EXPECT_EQ(code(may_delete(conv_kind::group, member, 8, &msg_by_7)), errc::forbidden);
  EXPECT_EQ(code(may_delete(conv_kind::direct, owner, 8, &msg_by_7)), errc::forbidden);
  EXPECT_EQ(code(may_delete(conv_kind::group, none, 7, &msg_by_7)), errc::forbidden);  // a former sender too
  EXPECT_EQ(code(may_delete(conv_kind::group, owner, 8, &deleted_by_7)), errc::not_found);
  EXPECT_EQ(code(may_delete(conv_kind::group, owner, 8, &join_event)), errc::invalid_field);
}

}  // namespace
