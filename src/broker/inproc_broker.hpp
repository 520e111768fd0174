// The single-process broker: nodes are inproc_broker objects attached to one bus in one process.
// confabd uses one (no other node exists, so publishing reaches nobody but itself, which the hub
// skips); tests attach several to one bus to run several hubs in a process without Redis.
#pragma once

#include "broker/broker.hpp"
#include "core/thread_annotations.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <map>
#include <set>

namespace confab::broker {

// Shared by the brokers of one process. Thread-safe.
class inproc_bus {
 public:
  struct member;
  void add(const std::shared_ptr<member>& m) EXCLUDES(mu_);
  void remove(const member* m) EXCLUDES(mu_);
  // Delivers to every subscribed member except from (a node never needs its own messages). The
  // handlers run on each member's strand, after every lock is released.
  void publish(const std::string& channel, const std::string& payload, const member* from) EXCLUDES(mu_);
  std::size_t size() EXCLUDES(mu_);
  bool join(std::int64_t user, const std::string& node) EXCLUDES(mu_);   // true: became online
  bool leave(std::int64_t user, const std::string& node) EXCLUDES(mu_);  // true: became offline
  bool online(std::int64_t user) EXCLUDES(mu_);
  std::vector<std::string> ids() EXCLUDES(mu_);  // of the members alive, sorted

 private:
  mutex mu_;
  std::vector<std::weak_ptr<member>> members_ GUARDED_BY(mu_);
  std::map<std::int64_t, std::set<std::string>> presence_ GUARDED_BY(mu_);
};

class inproc_broker final : public broker {
 public:
  inproc_broker(boost::asio::any_io_executor ex, std::shared_ptr<inproc_bus> bus);
  ~inproc_broker() override;

  void start(handlers h) override;
  void stop() override;
  void publish(std::string channel, std::string payload) override;
  void subscribe(std::vector<std::string> channels, std::function<void()> ready) override;
  void unsubscribe(std::vector<std::string> channels) override;
  void presence_join(std::int64_t user, std::function<void(bool)> cb) override;
  void presence_leave(std::int64_t user, std::function<void(bool)> cb) override;
  void presence_query(std::vector<std::int64_t> users, std::function<void(std::vector<bool>)> cb) override;
  void live_nodes(std::function<void(std::vector<std::string>)> cb) override;
  void describe(std::function<void(broker_view)> cb) override;
  const std::string& node_id() const override { return id_; }
  bool alone() const override { return bus_->size() == 1; }

 private:
  std::shared_ptr<inproc_bus> bus_;
  std::shared_ptr<inproc_bus::member> me_;
  std::string id_;
};

}  // namespace confab::broker
