// The one mapping from an events row to an event, shared by the store and the feed.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"
#include "storage/db.hpp"

#include <string_view>

namespace confab::storage {

// The columns to SELECT, in the order to_event reads them.
inline constexpr std::string_view event_cols =
    "conv_id, seq, kind, sender_id, device_id, client_id, ts_ms, body, content_type, reply_to, data";

// Reads an event from r's columns o .. o+10 (event_cols). errc::internal for a stored kind or
// payload this build cannot read.
result<event> to_event(const row& r, std::size_t o = 0);

}  // namespace confab::storage
