// issue 17: a WebSocket session's part in message traces (docs/architecture.md, "Message
// traces"): the traced live events it was handed wait, by stream position, until the write that
// carries them completes (live or by the catch-up); then the "written" hop is recorded. Runs on
// the session's strand.
#include "gateway/ws_session.hpp"

#include <algorithm>

namespace confab::gateway {

void ws_session::traced_queued(const std::vector<std::pair<std::int64_t, std::int64_t>>& traced) {
  for (const auto& t : traced) {
    if (trace_pending_.size() >= 64) trace_pending_.erase(trace_pending_.begin());  // bounded: oldest dropped
    trace_pending_.push_back(t);
  }
}

void ws_session::traced_written() {
  auto done = std::partition(trace_pending_.begin(), trace_pending_.end(), [&](const auto& t) { return t.first > inflight_pos_; });
  for (auto it = done; it != trace_pending_.end(); ++it)
    hub_->traces().hop(it->second, "written", {{"device", device_id()}, {"pos", it->first}});
  trace_pending_.erase(done, trace_pending_.end());
}

}  // namespace confab::gateway
