// The operation table against docs/protocol.md: every operation declared in the table is
// documented (a "**`name`**" entry in section 6, or a "### 7.N `name`" heading for the WebSocket
// session's own operations), every documented operation is in the table, and the ones the docs
// call "WebSocket only" are exactly those the table keeps off HTTP.
#include "chat/service.hpp"
#include "storage/backend_fixture.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace confab::testing {
namespace {

class no_live final : public chat::live_port {
 public:
  void receipt(id_t, const receipt_record&) override {}
  void typing(id_t, const std::string&, id_t, bool, std::optional<std::int64_t>) override {}
  void disconnect_device(id_t, id_t, std::uint16_t, const std::string&) override {}
  std::optional<bool> local_member(id_t, id_t) const override { return std::nullopt; }
  boost::asio::awaitable<std::vector<bool>> online(const std::vector<id_t>& users) override {
    co_return std::vector<bool>(users.size(), false);
  }
  boost::asio::awaitable<result<boost::json::object>> cluster(std::string, boost::json::object) override {
    co_return boost::json::object{};
  }
  std::string node_id() const override { return "test"; }
  std::int64_t trace_begin(id_t, id_t, const std::string&) override { return 0; }
  void trace_hop(std::int64_t, std::string, boost::json::object) override {}
};

struct documented_op {
  bool ws_only = false;
};

std::map<std::string, documented_op> documented_ops() {
  std::ifstream in(CONFAB_SOURCE_DIR "/docs/protocol.md");
  EXPECT_TRUE(in) << "cannot read docs/protocol.md";
  std::map<std::string, documented_op> out;
  const std::regex entry(R"(^\*\*`([a-z_]+)`\*\*(.*)$)"), session(R"(^### 7\.\d+ `([a-z_]+)`(.*)$)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, entry) || std::regex_match(line, m, session))
      out[m[1]] = documented_op{m[2].str().find("(WebSocket only)") != std::string::npos};
  }
  return out;
}

TEST(op_table, matches_docs_protocol_md) {
  auto be = make_backend();
  auto store = be->open();
  boost::asio::thread_pool pool(1);
  no_live live;
  chat::service svc(chat::deps{*store, live, pool, chat::limits{1024, 10, auth::argon2_cost{1, 8192}}});
  const auto docs = documented_ops();
  ASSERT_FALSE(docs.empty());
  std::set<std::string> declared;
  for (auto& name : svc.ops().names()) {
    declared.insert(name);
    auto it = docs.find(name);
    if (it == docs.end()) {
      ADD_FAILURE() << "operation " << name << " is in the table but not in docs/protocol.md";
      continue;
    }
    const auto* op = svc.ops().find(name);
    ASSERT_NE(op, nullptr);
    EXPECT_TRUE(op->policy.ws) << name;
    EXPECT_EQ(it->second.ws_only, !op->policy.http) << name << ": docs and table disagree on \"WebSocket only\"";
  }
  for (auto& [name, d] : docs) EXPECT_TRUE(declared.contains(name)) << "docs/protocol.md documents " << name << ", which the table lacks";
  pool.join();
}

}  // namespace
}  // namespace confab::testing
