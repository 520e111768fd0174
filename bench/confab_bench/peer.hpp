// The peer adapter of confab-bench: lets the same scenarios, latency measurement and correctness
// check drive the in-memory relays of bench/peers/ (a plain `ws` relay and a socket.io server)
// that docs/performance.md compares Confab with ("Side by side").
//
// Setup for a peer is names only: user k is "u<k>", room g is "r<g>"; a device joins its
// account's rooms right after the WebSocket upgrade (ws relay: {"op":"join"} / "joined";
// socket.io: Engine.IO open "0{...}", Socket.IO connect "40", then the "join" event with an ack),
// which counts as its hello. A message goes to every member of the room, the sender included; the
// sender's own copy is its ack (the relays store nothing, so there is nothing else to wait for)
// and is counted as a delivery, as Confab's sender's own copy of its event is.
//
// Checks: message texts are "b:<send ns>:<n>", n the sender's count of messages into that room;
// each receiver's n per (room, sender) must rise by exactly one (a step back or repeat counts as a
// reorder, a jump as a gap), and the scenarios count lost deliveries as for Confab. The relays
// have no per-user stream position, so that part of Confab's check has nothing to check here.
//
// Threads: as device.hpp (one io_context per device, nothing thread-safe).
#pragma once

#include "device.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace confab::bench {

// "confab", "ws-relay" or "socketio".
std::optional<protocol> parse_protocol(std::string_view name);
// n accounts named u1 .. un (no token, no rooms yet).
std::vector<account> peer_accounts(int n);
// Members [g*size, (g+1)*size) of accts join room g+1; returns the rooms 1 .. groups.
std::vector<std::int64_t> peer_rooms(std::vector<account>& accts, int groups, int size);

}  // namespace confab::bench
