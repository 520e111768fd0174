#include "server/reindex.hpp"

#include "broker/broker.hpp"
#include "core/log.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace confab::server {
namespace {
namespace asio = boost::asio;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

constexpr const char* live = "search";
constexpr const char* rebuild = "search.rebuild";
constexpr auto lease_ttl = 10s;

std::string duration_text(double s) {
  const auto t = static_cast<long long>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
  return buf;
}

// The progress line: a bar, events done of total, rate since this run started, ETA.
class progress_line {
 public:
  progress_line(std::int64_t done, std::int64_t total) : tty_(::isatty(2) == 1), done0_(done), done_(done), total_(total) {}

  void note(const std::string& text) {
    end_line();
    std::fprintf(stderr, "confabd --reindex: %s\n", text.c_str());
  }
  void add(std::int64_t events) { done_ += events; }
  void total(std::int64_t t) { total_ = std::max(t, done_); }
  void draw(bool force = false) {
    const auto now = clock::now();
    if (force ? done_ == drawn_done_ : now - last_ < (tty_ ? 200ms : 5s)) return;
    drawn_done_ = done_;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done_ - done0_) / secs : 0;
    const double frac = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1;
    std::string bar(30, '.');
    for (int i = 0; i < static_cast<int>(frac * 30); ++i) bar[i] = '#';
    const std::string eta = done_ >= total_ ? duration_text(0) : rate > 0 ? duration_text(static_cast<double>(total_ - done_) / rate) : "?";
    std::fprintf(stderr, "%s[%s] %3d%% %lld/%lld events, %.0f/s, ETA %s%s", tty_ ? "\r" : "", bar.c_str(),
                 static_cast<int>(frac * 100), static_cast<long long>(done_), static_cast<long long>(total_), rate, eta.c_str(),
                 tty_ ? "\x1b[K" : "\n");
    std::fflush(stderr);
    drawn_ = tty_;
  }
  void end_line() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }
  double seconds() const { return std::chrono::duration<double>(clock::now() - start_).count(); }
  std::int64_t done() const { return done_ - done0_; }

 private:
  bool tty_;
  std::int64_t done0_, done_, total_, drawn_done_ = -1;
  clock::time_point start_ = clock::now(), last_{};
  bool drawn_ = false;
};

struct run_state {
  storage::store& store;
  storage::feed& feed;
  int batch;
  const std::string me = "reindex-" + broker::make_node_id();
  bool stopping = false;
  int exit_after = 0;  // test hook: _exit(137) after this many rebuild batches (0: never)
};

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Takes the "search" lease, asking its holder to hand it over (a running node does at its next
// poll; a dead one's lease expires first). False if stopped, if storage failed, or if the holder
// neither handed it over nor let it expire within three lease periods.
asio::awaitable<bool> take_lease(run_state& st, progress_line& out) {
  bool told = false;
  const auto give_up = clock::now() + 3 * lease_ttl;
  while (!st.stopping) {
    if (clock::now() > give_up) {
      out.note("the node holding the search index's lease neither handed it over nor let it expire in 30 s; is it a version without --reindex?");
      co_return false;
    }
    auto held = co_await st.feed.claim(live, st.me, lease_ttl, true);
    if (!held) {
      out.note("cannot take the search index's lease: " + held.error().message);
      co_return false;
    }
    if (*held) co_return true;
    if (!told) out.note("waiting for the node that keeps the search index to hand it over");
    told = true;
    co_await sleep_for(200ms);
  }
  co_return false;
}

asio::awaitable<int> run(run_state& st) {
  auto p = co_await st.feed.progress(rebuild);
  if (!p) {
    std::fprintf(stderr, "confabd --reindex: storage failed: %s\n", p.error().message.c_str());
    co_return 1;
  }
  progress_line out(p->done, p->total);
  out.note(p->started ? "resuming an interrupted rebuild" : "rebuilding the search index");
  const storage::feed_runner::handler index = [&st](const storage::feed_batch& b) { return st.store.index_for_search(b.events); };
  id_t live_next = 0, rebuild_next = 0;
  int batches = 0;
  if (!co_await take_lease(st, out)) co_return st.stopping ? 130 : 1;
  while (!st.stopping) {
    auto held = co_await st.feed.claim(live, st.me, lease_ttl, true);  // renew
    if (!held || !*held) {
      out.note(held ? "the search index's lease was lost; taking it again" : "lease renewal failed: " + held.error().message);
      if (!co_await take_lease(st, out)) {
        if (!st.stopping) co_return 1;  // said why
        break;
      }
      continue;
    }
    auto l = co_await storage::run_feed_step(st.feed, live, st.batch, live_next, index);
    if (!l) {
      out.note(l.error().message);
      co_return 1;
    }
    live_next = l->events ? l->next_conv : 0;
    auto r = co_await storage::run_feed_step(st.feed, rebuild, st.batch, rebuild_next, index);
    if (!r) {
      out.note(r.error().message);
      co_return 1;
    }
    if (r->events == 0) {  // rebuilt: the next --reindex starts over
      out.draw(true);
      out.end_line();
      if (auto z = co_await st.feed.reset(rebuild); !z) {
        out.note("finished, but forgetting its cursor failed: " + z.error().message);
        co_return 1;
      }
      (void)co_await storage::release_lease(st.feed, live, st.me);
      char buf[128];
      std::snprintf(buf, sizeof buf, "done: %lld events indexed by this run in %s", static_cast<long long>(out.done()),
                    duration_text(out.seconds()).c_str());
      out.note(buf);
      co_return 0;
    }
    rebuild_next = r->next_conv;
    out.add(r->events);
    if (++batches % 50 == 0)
      if (auto q = co_await st.feed.progress(rebuild); q) out.total(q->total);
    out.draw();
    if (st.exit_after && batches >= st.exit_after) ::_exit(137);
  }
  out.end_line();
  (void)co_await storage::release_lease(st.feed, live, st.me);
  out.note("interrupted; run confabd --reindex again to resume");
  co_return 130;
}

}  // namespace

int reindex(storage::store& store, storage::feed& feed, int batch) {
  asio::io_context ioc(1);
  run_state st{store, feed, batch};
  if (const char* v = std::getenv("CONFABD_TEST_REINDEX_EXIT_AFTER")) st.exit_after = std::atoi(v);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&st](boost::system::error_code ec, int) {
    if (!ec) st.stopping = true;
  });
  int code = 1;
  asio::co_spawn(ioc, run(st), [&](std::exception_ptr e, int c) {
    code = e ? 1 : c;
    signals.cancel();
  });
  ioc.run();
  return code;
}

}  // namespace confab::server
