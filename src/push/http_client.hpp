// An asynchronous HTTPS client for the push senders, over libcurl's multi interface, with HTTP/2
// (negotiated by ALPN; APNs speaks nothing else) and connection reuse (HTTP/2 streams are
// multiplexed on one connection per origin).
//
// Threads and ownership: the client owns one background thread, which owns the curl multi handle
// and every transfer. submit() may be called from any thread, including from a completion
// callback; it copies the request and never blocks on the network. Each request's callback is
// called exactly once, on the client's thread — except after stop(), when submit() calls it at
// once on the calling thread with an error. Callbacks must not block (they run on the one thread
// that drives every transfer) and must not call stop() or destroy the client.
//
// Errors: an HTTP answer, whatever its status, is a response with status > 0. A transport
// failure (DNS, connection refused, TLS, timeout, a refused protocol or address, stop()) is a
// response with status 0 and error holding libcurl's text.
//
// Safety: only https URLs are followed unless options.allow_http; redirects are never followed;
// proxies from the environment are ignored; and, unless options.allow_non_public, every address a
// connection is about to be opened to must be publicly routable (classify_host), so a DNS name
// cannot point the server at its own network.
#pragma once

#include "core/thread_annotations.hpp"

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace confab::push {

struct http_request {
  std::string method = "POST";  // "GET" or anything curl sends as a custom request
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::optional<std::chrono::milliseconds> timeout;  // default: http_client_options::timeout
  // HTTP/2, multiplexed over one connection (APNs requires it). Otherwise HTTP/1.1: when a
  // multiplexed connection breaks, libcurl sends again every request it had no answer for, and a
  // provider without idempotency keys that had accepted them delivers them twice (seen: 79–193
  // of 20 000 FCM pushes against an HTTP/2 stand-in).
  bool multiplex = false;
};

struct http_response {
  int status = 0;       // the HTTP status; 0 when the request failed before an answer
  std::string error;    // the transport error (libcurl's text) when status == 0
  int http_version = 0; // 1 or 2 (major version of the answer)
  std::optional<std::string> retry_after;  // the Retry-After header, as sent
  std::optional<std::string> apns_id;      // the apns-id header, as sent
  std::string body;                        // at most http_client_options::max_body bytes
  bool truncated = false;                  // the body was longer and was cut
};

struct http_client_options {
  std::string ca_file;                        // PEM CA bundle; empty = the system's
  std::chrono::milliseconds timeout{10'000};  // per request, connection included
  std::chrono::milliseconds connect_timeout{5'000};
  std::size_t max_body = 64 * 1024;
  bool allow_http = false;         // plain http:// too (loopback stand-ins' control ports only)
  bool allow_non_public = false;   // connect to loopback/private addresses (stand-ins, private push services)
  // Idle connections kept open for reuse (over every host). An HTTP/1.1 provider takes one per
  // request in flight; a smaller cache closes them after use, and every later request pays a new
  // TLS handshake.
  long max_idle_connections = 1024;
};

class http_client {
 public:
  using callback = std::function<void(http_response)>;

  explicit http_client(http_client_options o = {});
  // stop().
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  // Queues req; done gets its response (or transport error) exactly once.
  void submit(http_request req, callback done);
  // Completes every queued and in-flight request with an error (on the client's thread), then
  // joins it. Idempotent. Must not be called from a callback.
  void stop();

  struct transfer;  // one request in flight (http_client.cpp)

 private:
  void run() EXCLUDES(mu_);
  bool start_queued() EXCLUDES(mu_);  // false once stopping
  void finish_done();
  void fail_all(std::string_view why) EXCLUDES(mu_);

  const http_client_options opts_;
  void* multi_ = nullptr;  // CURLM*; used by the client's thread only (curl_multi_wakeup excepted)
  mutex mu_;
  std::deque<std::unique_ptr<transfer>> queue_ GUARDED_BY(mu_);
  bool stopping_ GUARDED_BY(mu_) = false;
  std::vector<std::unique_ptr<transfer>> active_;  // the client's thread only
  // Finished easy handles, reset and reused (a new handle's buffers cost more than the request's
  // own work); the client's thread only, at most max_idle_connections.
  std::vector<void*> idle_easy_;
  std::thread thread_;
};

}  // namespace confab::push
