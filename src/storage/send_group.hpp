// Internal to the storage module: sends run together (executor::write_grouped). Every run of
// consecutive queued sends in a batch reaches run() as one group, inside one savepoint.
//
// PostgreSQL runs a group set-based, in three statements over arrays whatever its size; SQLite
// runs its sends one by one (a statement costs no round trip there). Both answer each send as
// store::send documents: its ack, the original ack of a repeat, or its own error.
// Threads: run() is called on the storage writer thread only.
#pragma once

#include "core/model.hpp"
#include "storage/executor.hpp"
#include "storage/store.hpp"

namespace confab::storage {

struct pending_send {
  send_request req;
  event_sink* sink = nullptr;
};

class send_group final : public write_group<pending_send, send_ack> {
 public:
  bool run(connection& c, std::span<item* const> items) override;

 private:
  static bool run_each(connection& c, std::span<item* const> items);
  static bool run_pg(connection& c, std::span<item* const> items);
};

}  // namespace confab::storage
