// issue 17: the hops the hub records for traced messages (trace.hpp), and the node's answer to
// the "trace" cluster query.
#include "gateway/hub.hpp"
#include "storage/executor.hpp"

#include <chrono>

namespace confab::gateway {
namespace json = boost::json;

namespace {
std::int64_t us(std::chrono::steady_clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }
}  // namespace

// On the storage publisher thread, in the committed batch's hooks.
void hub::trace_commit(std::int64_t trace, const event& ev, std::size_t recipients) {
  json::object a{{"conv", ev.conv}, {"seq", ev.seq}, {"recipients", recipients}};
  if (const auto* b = storage::executor::publishing_batch(); b && b->committed.time_since_epoch().count() != 0) {
    a["batch"] = b->id;
    a["batch_writes"] = b->writes;
    a["batch_us"] = us(b->committed - b->started);              // the batch's whole transaction
    a["commit_us"] = us(b->committed - b->commit_started);      // COMMIT, with its fsync
    a["since_commit_us"] = us(std::chrono::steady_clock::now() - b->committed);  // until these hooks ran
  }
  traces_.hop(trace, "committed", std::move(a));
}

void hub::trace_receipt(id_t conv, const receipt_record& r) {
  for (auto [seq, trace] : traces_.upto(conv, r.delivered_seq))
    traces_.hop(trace, "delivered", {{"user", r.user_id}, {"seq", seq}}, true);
  for (auto [seq, trace] : traces_.upto(conv, r.read_seq))
    traces_.hop(trace, "read", {{"user", r.user_id}, {"seq", seq}}, true);
}

}  // namespace confab::gateway
