// Synchronous HTTP set-up for confab-bench (accounts, conversations, history reads), before and
// outside the measured part. One connection per request; loopback only.
#pragma once

#include "device.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/json/object.hpp>

#include <functional>
#include <string>
#include <vector>

namespace confab::bench {

boost::json::object post(const boost::asio::ip::tcp::endpoint& server, const std::string& op,
                         const boost::json::object& body, const std::string& token = {});

// Runs fn(0 .. n-1) over `threads` threads (set-up requests over HTTP); rethrows the first error
// once all threads have stopped (the others stop taking work after it).
void in_parallel(int n, int threads, const std::function<void(int)>& fn);

// Registers n users named <prefix><i> with `threads` concurrent registrations (confabd runs at
// most 8 Argon2id jobs at once; run it with a small --argon2-* cost for benchmarks).
std::vector<account> register_users(const boost::asio::ip::tcp::endpoint& server, const std::string& prefix, int n,
                                    int threads = 8);

// A random tag that keeps one run's usernames apart from another's in a reused database.
std::string run_tag();

}  // namespace confab::bench
