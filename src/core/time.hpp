// Wall-clock milliseconds since the Unix epoch: the server timestamp of messages and events.
#pragma once

#include <chrono>
#include <cstdint>

namespace confab {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace confab
