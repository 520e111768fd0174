// One HTTP connection: the JSON API (POST /v1/<op>), health, the index page, and the upgrade to
// WebSocket at /v1/ws (handed to ws_session). Keep-alive; one request at a time; runs on the
// connection's strand; each read is bounded by the idle timeout and the body limit.
#pragma once

#include "gateway/api.hpp"
#include "gateway/hub.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace confab::gateway {

// Serves the connection until it closes or is upgraded. Never throws for I/O errors. slot is held
// for the connection's life (handed on to the WebSocket session): it counts open connections.
boost::asio::awaitable<void> serve_http(boost::beast::tcp_stream stream, api& api, std::shared_ptr<hub> hub,
                                        std::shared_ptr<void> slot);

}  // namespace confab::gateway
