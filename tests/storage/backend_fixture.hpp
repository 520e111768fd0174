// What the storage conformance suite needs from a backend: fresh, migrated stores.
#pragma once

#include "storage/store.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace confab::testing {

class backend {
 public:
  virtual ~backend() = default;
  virtual std::string name() const = 0;
  // A migrated store over the test's database (empty for the first call of a test, reopened after).
  std::unique_ptr<storage::store> open(int readers = 2);
  // The executor of the store open() made last (owned by that store).
  storage::executor* executor() const { return last_; }
  // The raw connection factory and migrations, for migration tests.
  virtual storage::connection_factory factory() = 0;
  virtual std::span<const std::string_view> migrations() = 0;

 private:
  storage::executor* last_ = nullptr;
};

// Defined once per backend (sqlite_fixture.cpp, pg_fixture.cpp): a backend with a fresh database.
std::unique_ptr<backend> make_backend();

// Records what the store publishes after each commit (the event and its recipients).
struct recording_sink final : storage::event_sink {
  std::mutex mu;
  std::vector<std::pair<event, std::vector<recipient>>> seen;
  void on_committed(const event& ev, std::span<const recipient> to) override {
    std::lock_guard l(mu);
    seen.emplace_back(ev, std::vector<recipient>(to.begin(), to.end()));
  }
};

// A storage test: a fresh, migrated store of the backend under test, publishing into sink_, and
// run() to await a store call on the test's thread.
class store_test : public ::testing::Test {
 protected:
  void SetUp() override {
    be_ = make_backend();
    reopen();
  }
  void TearDown() override {
    if (st_) st_->stop();
  }
  // Opens the store (again, after st_->stop()) over the test's database, with the sink.
  void reopen() {
    st_ = be_->open();
    st_->set_sink(&sink_);
  }

  template <class T>
  T run(boost::asio::awaitable<T> a) {
    auto fut = boost::asio::co_spawn(ioc_, std::move(a), boost::asio::use_future);
    ioc_.restart();
    ioc_.run();
    return fut.get();
  }
  id_t user(const std::string& name) {
    auto r = run(st_->create_user(name, "hash"));
    EXPECT_TRUE(r) << name;
    return r ? *r : 0;
  }

  boost::asio::io_context ioc_;
  std::unique_ptr<backend> be_;
  std::unique_ptr<storage::store> st_;
  recording_sink sink_;
};

}  // namespace confab::testing
