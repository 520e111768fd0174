#include "server/feed_file.hpp"

#include "core/blocking.hpp"
#include "core/log.hpp"
#include "protocol/codec.hpp"

#include <boost/json/parse.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

namespace confab::server {
namespace json = boost::json;
namespace {

error io_error(const std::string& what, const std::string& path) {
  return make_error(errc::unavailable, what + " " + path + ": " + std::strerror(errno));
}

// Reads path's complete lines into written (conv -> highest seq). Returns the length of the
// complete lines: a torn last line is not counted.
std::size_t scan(const std::string& path, std::map<id_t, std::int64_t>& written) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::size_t good = 0;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // no newline after it: torn
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    if (ec || !v.is_object()) break;
    const auto* conv = v.as_object().if_contains("conv");
    const auto* seq = v.as_object().if_contains("seq");
    if (!conv || !seq || !conv->is_int64() || !seq->is_int64()) break;
    auto& top = written[conv->as_int64()];
    top = std::max(top, seq->as_int64());
    good += line.size() + 1;
  }
  return good;
}

// The event as the protocol's event object (docs/protocol.md), one line.
std::string line_of(const event& e) { return protocol::event_json(e) + "\n"; }

}  // namespace

result<std::unique_ptr<feed_file_consumer>> feed_file_consumer::open(const std::string& path) {
  std::map<id_t, std::int64_t> written;
  const std::size_t good = scan(path, written);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot open", path);
  // Cut a torn last line, then append after the complete ones.
  if (::ftruncate(fd, static_cast<off_t>(good)) != 0 || ::lseek(fd, 0, SEEK_END) < 0) {
    auto e = io_error("cannot prepare", path);
    ::close(fd);
    return e;
  }
  return std::unique_ptr<feed_file_consumer>(new feed_file_consumer(path, fd, std::move(written)));
}

feed_file_consumer::feed_file_consumer(std::string path, int fd, std::map<id_t, std::int64_t> written)
    : path_(std::move(path)), fd_(fd), written_(std::move(written)) {}

feed_file_consumer::~feed_file_consumer() {
  pool_.join();
  ::close(fd_);
}

boost::asio::awaitable<result<nothing>> feed_file_consumer::handle(const storage::feed_batch& batch) {
  const std::int64_t before = skipped_;
  auto r = co_await run_blocking(pool_, [this, &batch] { return append(batch); });
  if (r && skipped_ > before)
    log::info("feed file: skipped events it already holds (redelivered after a crash)",
              "\"count\":" + std::to_string(skipped_ - before));
  co_return r;
}

result<nothing> feed_file_consumer::append(const storage::feed_batch& batch) {
  std::string out;
  auto written = written_;
  std::int64_t skipped = 0;
  for (const auto& e : batch.events) {
    auto& top = written[e.conv];
    if (e.seq <= top) {
      ++skipped;
      continue;
    }
    top = e.seq;
    out += line_of(e);
  }
  const off_t start = ::lseek(fd_, 0, SEEK_CUR);
  for (std::size_t done = 0; done < out.size();) {
    auto n = ::write(fd_, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto e = io_error("cannot write", path_);
      // Leave no partial line behind: the batch is delivered again and written whole.
      if (start >= 0 && ::ftruncate(fd_, start) == 0) ::lseek(fd_, start, SEEK_SET);
      return e;
    }
    done += static_cast<std::size_t>(n);
  }
  if (!out.empty() && ::fdatasync(fd_) != 0) return io_error("cannot sync", path_);
  written_ = std::move(written);
  skipped_ += skipped;
  return nothing{};
}

}  // namespace confab::server
