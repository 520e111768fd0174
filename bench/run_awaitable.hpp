// Runs one coroutine to completion on ioc from a plain function (the storage benchmarks drive the
// store's awaitables from main()); rethrows what it threw.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace confab::bench {

template <class T>
T run(boost::asio::io_context& ioc, boost::asio::awaitable<T> a) {
  auto f = boost::asio::co_spawn(ioc, std::move(a), boost::asio::use_future);
  ioc.restart();
  ioc.run();
  return f.get();
}

}  // namespace confab::bench
