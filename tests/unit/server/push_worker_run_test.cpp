// The push worker running over a real SQLite store with a scripted transport (issue 15): every
// due row is sent once and recorded, and no more than max_in_flight_per_provider sends to one
// provider are outstanding at once while another provider's sends go on.
#include "server/push_worker.hpp"

#include "storage/migrate.hpp"
#include "storage/sqlite/sqlite_backend.hpp"
#include "storage/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include <unistd.h>

using namespace confab;
namespace asio = boost::asio;

namespace {

template <class T>
T run(asio::io_context& ioc, asio::awaitable<T> a) {
  auto f = asio::co_spawn(ioc, std::move(a), asio::use_future);
  ioc.restart();
  ioc.run();
  return f.get();
}

TEST(push_worker_run, per_provider_limits_hold_and_every_row_is_sent_once) {
  const auto path = std::filesystem::temp_directory_path() / ("confab-push-worker-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  auto factory = storage::sqlite::make_factory(path.string());
  auto ex = std::make_unique<storage::executor>(factory, storage::executor::options{2, 256});
  ASSERT_TRUE(ex->run_exclusive([&](storage::connection& c) { return storage::migrate(c, storage::sqlite::migrations()); }));
  storage::store st(std::move(ex));
  asio::io_context ioc;
  const auto owner = *run(ioc, st.create_user("owner", "x"));
  std::vector<confab::id_t> members;
  for (int i = 0; i < 12; ++i) {
    const auto u = *run(ioc, st.create_user("u" + std::to_string(i), "x"));
    const auto d = *run(ioc, st.create_device(u, "d", "tok" + std::to_string(i)));
    const std::string kind = i % 2 ? "apns" : "fcm";
    const std::string target = kind == "fcm" ? R"({"kind":"fcm","token":"t)" + std::to_string(i) + R"("})"
                                             : R"({"kind":"apns","token":")" + std::string(64, 'a') +
                                                   R"(","topic":"com.example.app","environment":"production"})";
    ASSERT_TRUE(run(ioc, st.push().set_target({d.id, u, kind, target})));
    members.push_back(u);
  }
  const auto g = *run(ioc, st.create_group(owner, owner, "g", members));
  std::vector<event> evs;
  for (int i = 0; i < 5; ++i) {
    auto a = *run(ioc, st.send({owner, owner, g, "c" + std::to_string(i), "hi", "text/plain", std::nullopt}));
    event e;
    e.conv = g;
    e.seq = a.seq;
    e.kind = event_kind::message;
    e.sender = owner;
    e.ts_ms = a.ts_ms;
    evs.push_back(e);
  }
  ASSERT_EQ(*run(ioc, st.push().enqueue(evs, 0)), 60);

  // The transport answers each send 5 ms later, from the io_context, and counts what is outstanding.
  std::map<std::string, int> now, peak;
  int sent = 0;
  server::push_transport transport = [&](const push::push_target& to, const push::notification&, std::string,
                                         std::function<void(server::push_delivery)> done) {
    const std::string p = std::holds_alternative<push::fcm_target>(to) ? "fcm" : "apns";
    peak[p] = std::max(peak[p], ++now[p]);
    auto t = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(5));
    t->async_wait([&, t, p, done](boost::system::error_code) {
      --now[p];
      ++sent;
      done(server::push_delivery{});
    });
  };
  server::push_worker_options o;
  o.node = "n1";
  o.poll = std::chrono::milliseconds(10);
  o.max_in_flight_per_provider = 3;
  server::push_worker w(ioc.get_executor(), st.push(), transport, o);
  w.start();
  // Until the queue is empty and everything was answered, then the worker's stop (bounded below).
  auto watch = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(ioc);
    for (;;) {
      t.expires_after(std::chrono::milliseconds(50));
      co_await t.async_wait(asio::use_awaitable);
      auto n = co_await st.push().queued();
      if (n && *n == 0 && sent >= 60) break;
    }
    co_await w.stop();
  };
  asio::co_spawn(ioc, watch(), asio::detached);
  ioc.restart();
  ioc.run_for(std::chrono::seconds(30));
  EXPECT_EQ(sent, 60) << "each row sent once";
  EXPECT_EQ(peak["fcm"], 3);
  EXPECT_EQ(peak["apns"], 3);
  EXPECT_EQ(*run(ioc, st.push().queued()), 0) << "every outcome recorded";
  st.stop();
  std::filesystem::remove(path);
}

}  // namespace
