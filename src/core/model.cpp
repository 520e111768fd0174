#include "core/model.hpp"

#include <array>
#include <utility>

namespace confab {
namespace {

// Name tables: the enums' order is the tables' order.
constexpr std::array<std::string_view, 16> event_kind_names{
    "message", "created", "members_added", "member_removed", "member_left", "role_changed",
    // issue 11: reactions, edits and deletes; settings, pins, mutes and bans
    "reaction", "edited", "deleted",
    "settings_changed", "pinned", "unpinned", "member_muted", "member_unmuted", "member_banned", "member_unbanned"};
constexpr std::array<std::string_view, 3> conv_kind_names{"direct", "group", "channel"};
constexpr std::array<std::string_view, 4> role_names{"", "member", "admin", "owner"};
constexpr std::array<std::string_view, 2> policy_names{"everyone", "admins"};

template <class E, std::size_t N>
std::optional<E> parse_name(const std::array<std::string_view, N>& names, std::string_view s) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<E>(i);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(event_kind k) { return event_kind_names.at(static_cast<std::size_t>(k)); }
std::string_view to_string(conv_kind k) { return conv_kind_names.at(static_cast<std::size_t>(k)); }
std::string_view to_string(conv_role r) { return role_names.at(static_cast<std::size_t>(r)); }
std::optional<event_kind> parse_event_kind(std::string_view s) { return parse_name<event_kind>(event_kind_names, s); }
std::optional<conv_kind> parse_conv_kind(std::string_view s) { return parse_name<conv_kind>(conv_kind_names, s); }
std::optional<conv_role> parse_role(std::string_view s) { return parse_name<conv_role>(role_names, s); }
std::string_view to_string(conv_policy p) { return policy_names.at(static_cast<std::size_t>(p)); }
std::optional<conv_policy> parse_policy(std::string_view s) { return parse_name<conv_policy>(policy_names, s); }

membership_delta membership_change(const event& ev) {
  membership_delta d;
  if (auto* c = std::get_if<created_payload>(&ev.payload)) d.added = c->members;
  if (auto* a = std::get_if<members_added_payload>(&ev.payload)) d.added = a->users;
  if (auto* g = std::get_if<member_gone_payload>(&ev.payload)) d.removed.push_back(g->user);
  // moderation: a ban removes the member (when they were one; removing a non-member changes nothing)
  if (auto* b = std::get_if<moderation_payload>(&ev.payload); b && ev.kind == event_kind::member_banned) d.removed.push_back(b->user);
  return d;
}

}  // namespace confab
