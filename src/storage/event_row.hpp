// The one mapping between an events row and an event is store_detail.hpp's (event_cols, to_event);
// this header names it for readers outside the store's own files (feed.cpp).
#pragma once

#include "storage/store_detail.hpp"

namespace confab::storage {
using detail::event_cols;
using detail::to_event;
}  // namespace confab::storage
