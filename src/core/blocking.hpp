// Runs a blocking function on a thread pool and resumes the awaiting coroutine on its own executor.
//
// fn runs on a pool thread and must touch only what it owns (capture by value). Not cancellable.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <type_traits>

namespace confab {

template <class Fn>
boost::asio::awaitable<std::invoke_result_t<Fn>> run_blocking(boost::asio::thread_pool& pool, Fn fn) {
  using R = std::invoke_result_t<Fn>;
  // A plain function, not a coroutine (see storage/executor.hpp on GCC 12).
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
      [&pool](auto handler, Fn f) {
        // Outstanding work on the caller's executor until the result is posted back to it.
        auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                        boost::asio::execution::outstanding_work.tracked);
        boost::asio::post(pool, [h = std::move(handler), f = std::move(f), work = std::move(work)]() mutable {
          R r = f();
          auto ex = boost::asio::get_associated_executor(h);
          boost::asio::post(ex, [h = std::move(h), r = std::move(r)]() mutable { h(std::move(r)); });
          work = decltype(work){};
        });
      },
      boost::asio::use_awaitable, std::move(fn));
}

}  // namespace confab
