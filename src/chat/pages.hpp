// Pages of event lists ordered newest first (threads, mentions, search): the opaque cursor a page
// hands out in "next" and takes back in "before", and the page's JSON. Pure; any thread.
#pragma once

#include "core/error.hpp"
#include "protocol/codec.hpp"
#include "protocol/decode.hpp"
#include "storage/store.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace confab::chat {

// "<ms>.<conv>.<seq>" (clients pass back what next said).
std::string cursor_text(const storage::keyset_cursor& c);
// The cursor of a "before" field; errc::invalid_field when it is not one from next.
result<std::optional<storage::keyset_cursor>> parse_cursor(const std::optional<protocol::bytes<1, 64>>& b);
// {key: [events], next: cursor or null}
boost::json::object list_json(std::string_view key, const storage::event_list_page& p);

}  // namespace confab::chat
