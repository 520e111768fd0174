// One HTTP connection: the JSON API (POST /v1/<op>), health, the index page, and the upgrade to
// WebSocket at /v1/ws (handed to ws_session). Keep-alive; one request at a time; runs on the
// connection's strand; each read is bounded by the idle timeout and the body limit.
#pragma once

#include "core/gate.hpp"
#include "gateway/api.hpp"
#include "gateway/hub.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

namespace confab::gateway {

// The gates of one server, which shutdown closes and awaits.
struct http_gates {
  // Entered by each request once it has been read completely, left once its response was
  // written (or failed to be): shutdown answers every request it accepted. A request read after
  // the gate closed gets 503 unavailable and the connection is closed.
  gate requests;
  // Entered at each WebSocket upgrade, left when the WebSocket session object is destroyed.
  gate websockets;
};

// Serves the connection until it closes or is upgraded. Never throws for I/O errors. slot is held
// for the connection's life (handed on to the WebSocket session): it counts open connections.
// gates is shared so that a pass still held by a coroutine frame destroyed with the io_context
// (after a shutdown deadline expired) never leaves a destroyed gate.
boost::asio::awaitable<void> serve_http(boost::beast::tcp_stream stream, api& api, std::shared_ptr<hub> hub,
                                        std::shared_ptr<void> slot, std::shared_ptr<http_gates> gates);

}  // namespace confab::gateway
