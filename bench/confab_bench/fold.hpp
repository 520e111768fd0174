// The final state of each message as one device computes it from its stream, for the mixed
// workload's convergence check: every device of a conversation must end with the same state of
// every message, and that state must equal what `history` returns. Pure, no I/O; tested alone
// (tests/unit/bench/fold_test.cpp).
//
// Rules (docs/protocol.md): an `edited` event replaces its target's text; a `deleted` event
// erases text and reactions for good; a `reaction` event adds or removes (sender, emoji) on its
// target, idempotently; a message with `thread_root` is one more reply of its root.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace confab::bench {

struct message_state {
  std::int64_t sender = 0;
  std::string text;
  bool edited = false;
  bool deleted = false;
  std::int64_t thread_root = 0;  // 0: not a thread reply
  std::int64_t replies = 0;      // thread replies to this message
  std::map<std::string, std::set<std::int64_t>> reactions;  // emoji -> who

  // What another device (or history) can be compared on: reaction counts, not who.
  std::map<std::string, std::size_t> reaction_counts() const {
    std::map<std::string, std::size_t> out;
    for (const auto& [e, who] : reactions)
      if (!who.empty()) out[e] = who.size();
    return out;
  }
  bool same_as(const message_state& o) const {
    return sender == o.sender && text == o.text && edited == o.edited && deleted == o.deleted && thread_root == o.thread_root &&
           replies == o.replies && reaction_counts() == o.reaction_counts();
  }
};

class message_fold {
 public:
  // Applies one event object (the stream's "event"); events of other kinds are ignored.
  void apply(const boost::json::object& ev) {
    const auto conv = ev.at("conv").to_number<std::int64_t>();
    const auto seq = ev.at("seq").to_number<std::int64_t>();
    const auto kind = ev.at("kind").get_string();
    const auto sender = ev.at("sender").to_number<std::int64_t>();
    if (kind == "message") {
      auto& m = messages_[{conv, seq}];
      m.sender = sender;
      if (const auto* t = ev.if_contains("text"); t && t->is_string()) m.text = std::string(t->get_string());
      if (const auto* r = ev.if_contains("thread_root"); r && r->is_int64()) {
        m.thread_root = r->get_int64();
        ++messages_[{conv, m.thread_root}].replies;
      }
      return;
    }
    if (kind != "edited" && kind != "deleted" && kind != "reaction") return;
    const auto& d = ev.at("data").get_object();
    auto& m = messages_[{conv, d.at("target").to_number<std::int64_t>()}];
    if (kind == "deleted") {
      m.deleted = true;
      m.text.clear();
      m.edited = false;
      m.reactions.clear();
    } else if (m.deleted) {
      // Nothing changes a deleted message (the server refuses it; a fold must agree).
    } else if (kind == "edited") {
      m.text = std::string(d.at("text").get_string());
      m.edited = true;
    } else {
      auto& who = m.reactions[std::string(d.at("emoji").get_string())];
      if (d.at("added").as_bool()) who.insert(sender);
      else who.erase(sender);
    }
  }

  const std::map<std::pair<std::int64_t, std::int64_t>, message_state>& messages() const { return messages_; }

 private:
  std::map<std::pair<std::int64_t, std::int64_t>, message_state> messages_;  // (conv, seq) -> state
};

}  // namespace confab::bench
