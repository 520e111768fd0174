// The guarantee check of one device's stream, separate from the I/O so it can be tested alone.
// Positions must rise by exactly one (a repeat is a duplicate, a jump a gap); each conversation's
// seq must rise by exactly one after the first event seen of it (a lower or equal seq is a
// reorder, a jump a gap).
#pragma once

#include <cstdint>
#include <unordered_map>

namespace confab::bench {

struct check_counts {
  std::uint64_t duplicates = 0, gaps = 0, reorders = 0;
};

class stream_checker {
 public:
  // The device resumes after pos (hello's since).
  void start_at(std::int64_t pos) { pos_ = pos; }
  // Returns false if the event is a duplicate (to be ignored).
  bool on_event(std::int64_t pos, std::int64_t conv, std::int64_t seq, check_counts& c) {
    if (pos <= pos_) {
      ++c.duplicates;
      return false;
    }
    if (pos != pos_ + 1) ++c.gaps;
    pos_ = pos;
    auto [it, fresh] = last_seq_.try_emplace(conv, seq - 1);
    if (seq <= it->second)
      ++c.reorders;
    else if (seq != it->second + 1)
      ++c.gaps;
    if (seq > it->second) it->second = seq;
    return true;
  }
  std::int64_t pos() const { return pos_; }

 private:
  std::int64_t pos_ = 0;
  std::unordered_map<std::int64_t, std::int64_t> last_seq_;
};

}  // namespace confab::bench
