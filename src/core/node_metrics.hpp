// The metrics of one confabd node, declared once here (docs/operations.md lists them with their
// meaning): every module updates its own through node(), and they exist in /metrics from start-up
// (a family with labels gains a series at its first use).
//
// Threads: node() may be called from any thread; its first call registers everything in
// metrics::global(), later calls return the same object. Updating is lock-free (core/metrics.hpp).
#pragma once

#include "core/metrics.hpp"

namespace confab::metrics {

struct node_metrics {
  // --- gateway (connection counts are callbacks that gateway::server adds)
  callback_family& connections;          // confab_connections
  callback_family& websocket_sessions;   // confab_websocket_sessions
  callback_family& sessions;             // confab_sessions
  counter& connections_refused;          // confab_connections_refused_total
  family<counter>& operations;           // confab_operations_total{op, result}
  histogram& send_commit;                // confab_send_commit_seconds
  histogram& live_delivery;              // confab_live_delivery_seconds
  histogram& catch_up;                   // confab_catch_up_seconds
  gauge& outbox_bytes;                   // confab_outbox_bytes
  counter& slow_consumer_disconnects;    // confab_slow_consumer_disconnects_total
  // --- storage writer
  histogram& batch_writes;               // confab_storage_batch_writes
  histogram& batch_seconds;              // confab_storage_batch_seconds
  histogram& commit_seconds;             // confab_storage_commit_seconds
  counter& batch_reruns;                 // confab_storage_batch_reruns_total
  counter& batch_failures;               // confab_storage_batch_failures_total
  // --- broker
  counter& broker_published;             // confab_broker_published_total
  counter& broker_publish_failures;      // confab_broker_publish_failures_total
  counter& broker_received;              // confab_broker_received_total
  family<counter>& broker_disconnects;   // confab_broker_disconnects_total{connection}
  family<counter>& broker_reconnects;    // confab_broker_reconnects_total{connection}
  // --- feeds
  family<counter>& feed_events;          // confab_feed_events_total{consumer}
  family<counter>& feed_errors;          // confab_feed_errors_total{consumer}
  family<gauge>& feed_lag;               // confab_feed_lag_seconds{consumer}
  // --- push (issue 15)
  family<counter>& push_queued;          // confab_push_queued_total{kind}
  family<counter>& push_outcomes;        // confab_push_outcomes_total{provider, outcome}
  gauge& push_queue;                     // confab_push_queue
  histogram& push_delay;                 // confab_push_delay_seconds
};

// This process's node metrics (and the process_* metrics read from /proc/self on scrape).
node_metrics& node();

}  // namespace confab::metrics
