// issue 17: this node's record of traced messages, hop by hop (docs/architecture.md, "Message
// traces"). A send is traced when it asks ("trace": true) or is sampled (--trace-sample); its
// trace id goes with the event to the other nodes in the relay note, and each node records the
// hops it sees. admin_trace gathers them from every node (cluster query "trace").
//
// Bounded: the newest max_hops hops, max_traced traced messages and max_pending sends not yet
// committed are kept; older ones are forgotten. Cheap when nothing is traced: active() is one
// relaxed load, and the hot paths call nothing else then.
//
// Threads: thread-safe (one mutex, held for a few map operations; never while calling out).
#pragma once

#include "core/model.hpp"
#include "core/thread_annotations.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace confab::gateway {

class trace_recorder {
 public:
  static constexpr std::size_t max_hops = 8192;
  static constexpr std::size_t max_traced = 1024;
  static constexpr std::size_t max_pending = 256;

  // A send by user's device with client_id is traced: its new trace id (positive, < 2^53).
  std::int64_t begin(id_t user, id_t device, const std::string& client_id) EXCLUDES(mu_);
  // The newest trace begun here for a send by user with client_id, or 0 (the newest max_traced
  // are kept, committed or not).
  std::int64_t of_client(id_t user, const std::string& client_id) const EXCLUDES(mu_);
  // On commit: the trace of the message device sent as client_id (0 if none), now known as
  // (conv, seq).
  std::int64_t claim(id_t device, const std::string& client_id, id_t conv, std::int64_t seq) EXCLUDES(mu_);
  // A traced message that another node committed.
  void adopt(std::int64_t trace, id_t conv, std::int64_t seq) EXCLUDES(mu_);
  // The trace of (conv, seq), or 0.
  std::int64_t of(id_t conv, std::int64_t seq) const EXCLUDES(mu_);
  // The traced messages of conv up to seq (for receipts): (seq, trace) pairs.
  std::vector<std::pair<std::int64_t, std::int64_t>> upto(id_t conv, std::int64_t seq) const EXCLUDES(mu_);

  // Records a hop of trace now (wall clock, µs). once: skipped if the trace already has a hop of
  // this kind with the same "user" attribute (receipts repeat).
  void hop(std::int64_t trace, std::string kind, boost::json::object attrs, bool once = false) EXCLUDES(mu_);
  // The trace's hops on this node, oldest first: {"hop", "at_us", ...attrs}.
  boost::json::array hops(std::int64_t trace) const EXCLUDES(mu_);

  // Whether anything was ever traced here (a hint for the hot paths).
  bool active() const { return active_.load(std::memory_order_relaxed); }

 private:
  struct hop_record {
    std::int64_t trace;
    std::string kind;
    std::int64_t at_us;
    boost::json::object attrs;
  };
  void remember(std::int64_t trace, id_t conv, std::int64_t seq) REQUIRES(mu_);

  mutable mutex mu_;
  std::atomic<bool> active_{false};
  std::mt19937_64 rng_ GUARDED_BY(mu_){std::random_device{}()};
  std::deque<hop_record> hops_ GUARDED_BY(mu_);
  std::map<std::pair<id_t, std::string>, std::int64_t> pending_ GUARDED_BY(mu_);
  std::deque<std::pair<id_t, std::string>> pending_order_ GUARDED_BY(mu_);
  std::map<std::pair<id_t, std::int64_t>, std::int64_t> traced_ GUARDED_BY(mu_);
  std::map<std::pair<id_t, std::string>, std::int64_t> by_client_ GUARDED_BY(mu_);  // (user, client_id)
  std::deque<std::pair<id_t, std::string>> by_client_order_ GUARDED_BY(mu_);
  std::deque<std::pair<id_t, std::int64_t>> traced_order_ GUARDED_BY(mu_);
};

}  // namespace confab::gateway
