// The operation table: every operation of Confab's API is declared here once — its name, typed
// request, whether it needs authentication, its rate cost, the transports that allow it, and its
// handler. HTTP (POST /v1/<op>) and WebSocket ({"op": ...}) both dispatch through it (the
// gateway's api::call enforces the declaration; see docs/protocol.md section 6).
//
// Handlers are coroutines that run on the caller's executor. They receive the decoded request by
// const reference; it lives in the dispatching frame until the handler completes.
#pragma once

#include "core/error.hpp"
#include "core/model.hpp"
#include "protocol/decode.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace confab::chat {

using op_result = boost::asio::awaitable<result<boost::json::value>>;

enum class transport : std::uint8_t { http = 1, ws = 2 };

// What the operations acting on the WebSocket connection itself need from it. Implemented by the
// gateway's ws_session; called on the session's strand.
class session_port {
 public:
  virtual ~session_port() = default;
  struct hello_request {
    std::string token;
    std::optional<std::int64_t> since;
    bool batch = false;
  };
  // Authenticates the connection and starts delivery; the result is the hello result object.
  virtual op_result hello(const hello_request& req) = 0;
  // Replaces the users whose presence this connection watches (sorted, unique, already checked
  // as allowed); returns whether each is online now, in the same order.
  virtual boost::asio::awaitable<std::vector<bool>> watch_presence(const std::vector<id_t>& users) = 0;
};

// The caller of one operation.
struct op_context {
  const principal* who = nullptr;  // null when not authenticated
  transport via = transport::http;
  session_port* session = nullptr;  // WebSocket only
  // issue 17: set by an operation that traces what it does (send): the gateway's log line for a
  // failed request names it.
  mutable std::int64_t trace = 0;
};

struct op_policy {
  bool needs_auth = true;
  int rate_cost = 1;  // tokens taken from the device's bucket (authenticated calls only)
  bool http = true;
  bool ws = true;
  bool before_hello = false;  // WebSocket: allowed before hello (hello, ping)
  bool admin_only = false;    // issue 17: server administrators only (--admin); forbidden to anyone else
};

struct operation {
  std::string name;
  op_policy policy;
  // Decodes the request from the frame's fields, then runs the handler.
  std::function<op_result(const op_context&, const boost::json::object&)> run;
};

class op_table {
 public:
  // Declares op name with request type Req and handler fn(const op_context&, const Req&) -> op_result.
  // fn must stay valid as long as the table (it captures the feature object it belongs to).
  template <class Req, class Fn>
  void add(std::string name, op_policy policy, Fn fn) {
    auto n = name;
    ops_.insert_or_assign(std::move(n), operation{std::move(name), policy, [fn](const op_context& ctx, const boost::json::object& args) {
                                               return run_typed<Req>(fn, ctx, args);
                                             }});
  }
  const operation* find(std::string_view name) const;
  std::vector<std::string> names() const;  // ascending

 private:
  // A plain coroutine with the handler copied into its frame (not a capturing lambda coroutine,
  // whose captures would live outside the frame).
  template <class Req, class Fn>
  static op_result run_typed(Fn fn, const op_context& ctx, const boost::json::object& args) {
    auto req = protocol::decode<Req>(args);
    if (!req) co_return req.error();
    co_return co_await fn(ctx, *req);
  }

  std::map<std::string, operation, std::less<>> ops_;
};

}  // namespace confab::chat
