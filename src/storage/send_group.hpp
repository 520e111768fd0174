// Internal to the storage module: sends run together (executor::write_grouped). Every run of
// consecutive queued sends in a batch reaches run() as one group, inside one savepoint, and goes
// to the backend's strategy (strategy.hpp): PostgreSQL runs it set-based, in three statements
// over arrays whatever its size; SQLite runs its sends one by one (a statement costs no round
// trip there). Both answer each send as store::send documents: its ack, the original ack of a
// repeat, or its own error.
// Threads: run() is called on the storage writer thread only.
#pragma once

#include "storage/strategy.hpp"

namespace confab::storage {

class send_group final : public write_group<pending_send, send_ack> {
 public:
  bool run(connection& c, std::span<item* const> items) override;
};

}  // namespace confab::storage
