// The node's registry of live WebSocket sessions and the router of committed events to them.
//
// Thread-safe: attach/detach run on session strands, on_committed on the storage writer thread.
// Routing serialises each event once and hands the same immutable text to every session; the
// session strands then order, deduplicate and gap-fill (ws_session.hpp). The hub holds only weak
// references: a session's lifetime is its own coroutines'.
#pragma once

#include "core/model.hpp"
#include "storage/store.hpp"

#include <cstdint>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace confab::gateway {

class session_base {
 public:
  virtual ~session_base() = default;
  // A committed event at position pos of this session's user stream. Thread-safe, non-blocking.
  virtual void deliver(std::int64_t pos, std::shared_ptr<const std::string> event_json) = 0;
  // Closes the WebSocket with code and reason after the frames already queued. Thread-safe.
  virtual void kick(std::uint16_t code, std::string reason) = 0;
  // Re-reads this user's stream from storage past what was delivered (something may have been
  // committed unannounced). Thread-safe.
  virtual void resync() = 0;
};

class hub final : public storage::event_sink {
 public:
  // Registers a session; false once close_all ran (shutting down: the session should close 1001).
  bool attach(id_t user, id_t device, const std::shared_ptr<session_base>& s);
  void detach(id_t user, id_t device, const session_base* s);

  void on_committed(const event& ev, std::span<const recipient> to) override;
  void on_uncertain() override;

  // Closes every session of the device (revoked token).
  void disconnect_device(id_t device, std::uint16_t code, const std::string& reason);
  // Closes every session (shutdown, 1001).
  void close_all(std::uint16_t code, const std::string& reason);
  std::size_t session_count() const;
  bool stopping() const;

 private:
  using list = std::vector<std::weak_ptr<session_base>>;
  static void remove(list& l, const session_base* s);
  std::vector<std::shared_ptr<session_base>> all_sessions() const;
  mutable std::mutex mu_;
  std::atomic<bool> stopping_{false};  // written under mu_; read without it by stopping()
  std::unordered_map<id_t, list> by_user_;
  std::unordered_map<id_t, list> by_device_;
};

}  // namespace confab::gateway
