// The built-in feed consumer "file" (--feed-file): appends every committed event to a file as one
// JSON line, the event object of docs/protocol.md ({"conv","seq","kind","sender","device","ts",
// ...}), in seq order per conversation, each event exactly once across crashes and restarts.
//
// Exactly once: the feed delivers at least once (a batch whose cursor commit did not happen is
// delivered again, see storage/feed.hpp). The file is its own record of what it holds: open()
// reads it and keeps, per conversation, the highest seq written; a redelivered event at or below
// it is skipped (and counted in skipped()). A batch is written and fsync'ed before handle()
// completes, so before the runner commits the cursor. A torn last line (a crash in mid-write) is
// cut off by open().
//
// Threads: the file is written on the consumer's own thread (run_blocking); handle() is awaited
// by one feed_runner, one batch at a time.
#pragma once

#include "storage/feed.hpp"

#include <boost/asio/thread_pool.hpp>

#include <map>
#include <memory>
#include <string>

namespace confab::server {

class feed_file_consumer {
 public:
  // Opens (creates) path and reads what it holds. Errors: errc::unavailable with the reason.
  static result<std::unique_ptr<feed_file_consumer>> open(const std::string& path);
  ~feed_file_consumer();

  // Appends the batch's events that the file does not hold yet, then fsyncs.
  boost::asio::awaitable<result<nothing>> handle(const storage::feed_batch& batch);
  std::int64_t skipped() const { return skipped_; }

 private:
  feed_file_consumer(std::string path, int fd, std::map<id_t, std::int64_t> written);
  result<nothing> append(const storage::feed_batch& batch);  // on pool_

  std::string path_;
  int fd_;
  std::map<id_t, std::int64_t> written_;  // conv -> highest seq in the file; touched on pool_ only
  std::int64_t skipped_ = 0;              // likewise
  boost::asio::thread_pool pool_{1};
};

}  // namespace confab::server
