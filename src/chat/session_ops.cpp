// The WebSocket session's own operations: hello (authenticate the connection and start delivery)
// and ping. Declared here like every other operation; the session does the work (session_port).
#include "chat/service.hpp"

#include <limits>

namespace confab::chat {
namespace json = boost::json;

namespace {

struct hello_req {
  std::string token;
  std::optional<protocol::int_range<0, std::numeric_limits<std::int64_t>::max()>> since;
  std::optional<bool> batch;
};
BOOST_DESCRIBE_STRUCT(hello_req, (), (token, since, batch))

}  // namespace

void add_session_ops(op_table& t) {
  constexpr op_policy session_op{.needs_auth = false, .rate_cost = 0, .http = false, .before_hello = true};
  t.add<hello_req>("hello", session_op, [](const op_context& c, const hello_req& r) -> op_result {
    const session_port::hello_request req{r.token, r.since ? std::optional<std::int64_t>(r.since->value) : std::nullopt,
                                          r.batch.value_or(false)};
    co_return co_await c.session->hello(req);
  });
  t.add<protocol::no_fields>("ping", session_op, [](const op_context&, const protocol::no_fields&) -> op_result {
    co_return json::object{{"pong", true}};
  });
}

}  // namespace confab::chat
