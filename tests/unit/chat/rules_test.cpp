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
