// A gate counts work in progress and lets shutdown wait for it without polling (the idea of
// Seastar's gate): enter() before starting a piece of work, leave() when it is done; close()
// refuses new entries and completes once everything that entered has left.
//
// Threads: every member is thread-safe (one mutex). Work may enter on one thread and leave on
// another. close()'s completion is posted to the executor associated with its completion token
// (for co_await, the awaiting coroutine's executor); it never runs inside leave().
// Cancellation: close() does not support per-operation cancellation; a pending close is abandoned
// by destroying the gate (its handler is destroyed, not called), which the owner does only after
// its io_context stopped.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace confab {

class gate {
 public:
  // A pass through the gate: leaves on destruction (or reset()). Move-only; empty when the gate
  // was closed at entry (test with operator bool).
  class pass {
   public:
    pass() = default;
    explicit pass(gate* g) : gate_(g) {}
    pass(pass&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)) {}
    pass& operator=(pass&& o) noexcept {
      if (this != &o) {
        reset();
        gate_ = std::exchange(o.gate_, nullptr);
      }
      return *this;
    }
    pass(const pass&) = delete;
    pass& operator=(const pass&) = delete;
    ~pass() { reset(); }
    void reset() {
      if (auto* g = std::exchange(gate_, nullptr)) g->leave();
    }
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    gate* gate_ = nullptr;
  };

  gate() = default;
  gate(const gate&) = delete;
  gate& operator=(const gate&) = delete;

  // Counts one piece of work in; false (and nothing counted) once close() was called.
  bool enter() {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    ++count_;
    return true;
  }
  // enter() as a pass; the pass is empty if the gate is closed.
  pass try_enter() { return enter() ? pass(this) : pass(); }

  // Counts one piece of work out; the last one out of a closed gate completes the waiting closes.
  void leave() {
    std::vector<waiter> done;
    {
      std::lock_guard lock(mu_);
      if (--count_ == 0 && closed_) done.swap(waiters_);
    }
    for (auto& w : done) complete(std::move(w));
  }

  std::size_t count() const {
    std::lock_guard lock(mu_);
    return count_;
  }
  bool closed() const {
    std::lock_guard lock(mu_);
    return closed_;
  }

  // Closes the gate (idempotent) and completes, with signature void(), once the count is zero.
  template <class Token = const boost::asio::use_awaitable_t<>&>
  auto async_close(Token&& token = {}) {
    return boost::asio::async_initiate<Token, void()>(
        [this](auto handler) {
          // Posted, never run inside leave(): the handler's own executor, so a coroutine resumes
          // where it awaited.
          auto ex = boost::asio::get_associated_executor(handler);
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          waiter w = [ex, h] { boost::asio::post(ex, [h] { std::move (*h)(); }); };
          {
            std::lock_guard lock(mu_);
            closed_ = true;
            if (count_ != 0) {
              waiters_.push_back(std::move(w));
              return;
            }
          }
          complete(std::move(w));
        },
        token);
  }
  boost::asio::awaitable<void> close() { return async_close(boost::asio::use_awaitable); }

 private:
  using waiter = std::function<void()>;  // posts the close's completion

  static void complete(const waiter& w) { w(); }

  mutable std::mutex mu_;
  std::size_t count_ = 0;
  bool closed_ = false;
  std::vector<waiter> waiters_;
};

}  // namespace confab
