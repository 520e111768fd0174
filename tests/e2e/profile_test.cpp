// End-to-end tests of profiles: display names (set_profile and where they appear), profiles by
// id for people who share or shared a conversation (users), case-insensitive people search, and
// when each device was last active. A real confabd per test, both backends.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace e2e {
namespace {

class Profiles : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("confab-profile-");
    if (GetParam() == "postgres") {
      try {
        pg_ = std::make_unique<pg_database>();
      } catch (const std::exception& e) {
        FAIL() << e.what();
      }
    }
    std::vector<std::string> args;
    if (GetParam() == "postgres") args = {"--storage", "postgres", "--pg-dsn", pg_->dsn()};
    else args = {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string()};
    for (const char* a : {"--argon2-ops", "1", "--argon2-mem-kib", "8"}) args.push_back(a);
    srv_ = std::make_unique<server_process>(dir_);
    srv_->start(args);
    http_ = std::make_unique<http_client>(srv_->port());
  }

  void TearDown() override {
    if (srv_) srv_->stop();
    if (HasFailure() && srv_) std::cerr << "---- server log (last lines)\n" << tail_file(srv_->log_path(), 30);
    srv_.reset();
    pg_.reset();
    std::error_code ec;
    if (!HasFailure()) std::filesystem::remove_all(dir_, ec);
  }

  std::string error_of(std::string_view op, const json::object& body, const std::string& token) const {
    return http_->post(op, body, token).error_code();
  }

  std::filesystem::path dir_;
  std::unique_ptr<pg_database> pg_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<http_client> http_;
};

// user_id -> display_name of an array of user objects.
std::map<std::int64_t, std::string> names_of(const json::array& users) {
  std::map<std::int64_t, std::string> out;
  for (auto& u : users) out[jint(u, "user_id")] = jstr(u, "display_name");
  return out;
}

TEST_P(Profiles, DisplayNameIsSetTrimmedAndShownEverywhere) {
  auto alice = register_user(*http_, "alice");
  auto bob = register_user(*http_, "bob");
  EXPECT_EQ(jstr(http_->call("me", {}, alice.token), "display_name"), "");  // unset

  auto p = http_->call("set_profile", {{"display_name", "  Alice Ärmel \xD8\xB9  "}}, alice.token);
  EXPECT_EQ(jint(p, "user_id"), alice.user_id);
  EXPECT_EQ(jstr(p, "username"), "alice");
  EXPECT_EQ(jstr(p, "display_name"), "Alice Ärmel \xD8\xB9");
  const std::string name = "Alice Ärmel \xD8\xB9";

  EXPECT_EQ(jstr(http_->call("me", {}, alice.token), "display_name"), name);
  EXPECT_EQ(jstr(http_->call("user", {{"username", "alice"}}, bob.token), "display_name"), name);
  auto found = http_->call("find_users", {{"prefix", "ali"}}, bob.token);
  EXPECT_EQ(names_of(jarr(found, "users")), (std::map<std::int64_t, std::string>{{alice.user_id, name}}));

  // A direct conversation's summary names both people.
  auto conv = jint(http_->call("create_direct", {{"user_id", alice.user_id}}, bob.token), "conv");
  auto list = http_->call("conversations", {}, bob.token);
  auto members = names_of(jarr(jarr(list, "conversations").at(0), "members"));
  EXPECT_EQ(members, (std::map<std::int64_t, std::string>{{alice.user_id, name}, {bob.user_id, ""}}));
  auto one = http_->call("conversation", {{"conv", conv}}, bob.token);
  EXPECT_EQ(names_of(jarr(one, "members")), members);
  EXPECT_EQ(names_of(jarr(http_->call("receipts", {{"conv", conv}}, bob.token), "members")), members);

  // Groups: members.
  auto group = jint(http_->call("create_group", {{"title", "g"}, {"members", json::array{bob.user_id}}}, alice.token), "conv");
  EXPECT_EQ(names_of(jarr(http_->call("members", {{"conv", group}}, bob.token), "members")), members);

  // "" clears it (and so does white space only).
  EXPECT_EQ(jstr(http_->call("set_profile", {{"display_name", " \t "}}, alice.token), "display_name"), "");
  EXPECT_EQ(jstr(http_->call("user", {{"username", "alice"}}, bob.token), "display_name"), "");
}

TEST_P(Profiles, SetProfileRejectsBadNames) {
  auto alice = register_user(*http_, "alice");
  http_->call("set_profile", {{"display_name", "Al"}}, alice.token);
  EXPECT_EQ(error_of("set_profile", {}, alice.token), "missing_field");
  EXPECT_EQ(error_of("set_profile", {{"display_name", 5}}, alice.token), "invalid_field");
  EXPECT_EQ(error_of("set_profile", {{"display_name", std::string(65, 'a')}}, alice.token), "invalid_field");
  EXPECT_EQ(error_of("set_profile", {{"display_name", std::string(32, 'a') + "\xC3\xA4" + std::string(31, 'a')}}, alice.token),
            "invalid_field");  // 65 bytes, 64 characters
  const std::string bads[] = {"a\nb", "a\x01", "tab\there", "del\x7f", "c1\xC2\x85", std::string("nul\0", 4)};
  for (const auto& bad : bads) {
    SCOPED_TRACE(dump(json::string(bad)));
    EXPECT_EQ(error_of("set_profile", {{"display_name", bad}}, alice.token), "invalid_field");
  }
  // A lone surrogate escape cannot become UTF-8: refused before the operation runs.
  auto r = http_->post_raw("/v1/set_profile", R"({"display_name":"a\udc00"})", alice.token);
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.error_code(), "malformed");
  EXPECT_EQ(http_->post("set_profile", {{"display_name", "x"}}).error_code(), "unauthenticated");
  // Nothing was stored by the refusals; exactly 64 bytes is fine.
  EXPECT_EQ(jstr(http_->call("me", {}, alice.token), "display_name"), "Al");
  EXPECT_EQ(jstr(http_->call("set_profile", {{"display_name", std::string(64, 'z')}}, alice.token), "display_name"),
            std::string(64, 'z'));
}

TEST_P(Profiles, UsersResolvesPeopleWhoShareOrSharedAConversation) {
  auto alice = register_user(*http_, "alice");
  auto bob = register_user(*http_, "bob");
  auto carol = register_user(*http_, "carol");
  auto dave = register_user(*http_, "dave");
  http_->call("set_profile", {{"display_name", "Carol"}}, carol.token);
  auto group = jint(http_->call("create_group", {{"title", "g"}, {"members", json::array{bob.user_id, carol.user_id}}}, alice.token),
                    "conv");
  http_->call("remove_member", {{"conv", group}, {"user_id", carol.user_id}}, alice.token);

  auto ids = [](std::initializer_list<std::int64_t> xs) { return json::array(xs.begin(), xs.end()); };
  auto seen = [&](const account& who, const json::array& asked) {
    std::vector<std::int64_t> out;
    const auto r = http_->call("users", {{"ids", asked}}, who.token);  // named: jarr returns a reference into it
    for (auto& u : jarr(r, "users")) out.push_back(jint(u, "user_id"));
    return out;
  };
  // The former member carol still resolves for alice and bob; dave (never shared) and an id of
  // nobody are left out; the caller always sees themself.
  const auto all = ids({dave.user_id, carol.user_id, bob.user_id, alice.user_id, 999999, alice.user_id});
  EXPECT_EQ(seen(alice, all), (std::vector<std::int64_t>{alice.user_id, bob.user_id, carol.user_id}));
  EXPECT_EQ(seen(bob, all), (std::vector<std::int64_t>{alice.user_id, bob.user_id, carol.user_id}));
  // carol, removed, still resolves the people she shared the group with.
  EXPECT_EQ(seen(carol, all), (std::vector<std::int64_t>{alice.user_id, bob.user_id, carol.user_id}));
  EXPECT_EQ(seen(dave, all), (std::vector<std::int64_t>{dave.user_id}));
  auto one = http_->call("users", {{"ids", ids({carol.user_id})}}, alice.token);
  EXPECT_EQ(dump(jarr(one, "users").at(0)),
            dump(json::object{{"user_id", carol.user_id}, {"username", "carol"}, {"display_name", "Carol"}}));

  EXPECT_EQ(error_of("users", {}, alice.token), "missing_field");
  EXPECT_EQ(error_of("users", {{"ids", json::array{}}}, alice.token), "invalid_field");
  EXPECT_EQ(error_of("users", {{"ids", json::array{"1"}}}, alice.token), "invalid_field");
  EXPECT_EQ(error_of("users", {{"ids", json::array(101, 1)}}, alice.token), "invalid_field");
  EXPECT_EQ(seen(alice, json::array(100, alice.user_id)), std::vector<std::int64_t>{alice.user_id});
  EXPECT_EQ(http_->post("users", {{"ids", ids({1})}}).error_code(), "unauthenticated");
}

TEST_P(Profiles, FindUsersIgnoresCase) {
  auto alice = register_user(*http_, "alice");
  register_user(*http_, "bob");
  register_user(*http_, "Boris");
  register_user(*http_, "BOBCAT");
  register_user(*http_, "ben");
  auto names = [&](const std::string& prefix) {
    std::vector<std::string> out;
    const auto r = http_->call("find_users", {{"prefix", prefix}}, alice.token);
    for (auto& u : jarr(r, "users")) out.push_back(jstr(u, "username"));
    return out;
  };
  // Ascending by lower-cased name: "bob" < "bobcat" < "boris".
  EXPECT_EQ(names("Bo"), (std::vector<std::string>{"bob", "BOBCAT", "Boris"}));
  EXPECT_EQ(names("bo"), names("BO"));
  EXPECT_EQ(names("bOb"), (std::vector<std::string>{"bob", "BOBCAT"}));
  EXPECT_EQ(names("B"), (std::vector<std::string>{"ben", "bob", "BOBCAT", "Boris"}));
  EXPECT_TRUE(names("bx").empty());
}

TEST_P(Profiles, DevicesReportWhenLastActive) {
  auto alice = register_user(*http_, "alice", "first");
  auto second = login(*http_, "alice", "second");
  auto third = login(*http_, "alice", "third");  // never used after login
  std::this_thread::sleep_for(20ms);              // so that a later authentication has a later clock reading
  http_->call("me", {}, second.token);
  auto devs = http_->call("devices", {}, alice.token);
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> by_id;  // id -> (created, last active)
  for (auto& d : jarr(devs, "devices")) by_id[jint(d, "device_id")] = {jint(d, "created_ts"), jint(d, "last_active_ms")};
  ASSERT_EQ(by_id.size(), 3u);
  EXPECT_GT(by_id[second.device_id].second, by_id[second.device_id].first);  // used after creation
  EXPECT_GT(by_id[alice.device_id].second, by_id[alice.device_id].first);    // this very request
  EXPECT_EQ(by_id[third.device_id].second, by_id[third.device_id].first);    // not used since
  EXPECT_EQ(jint(devs, "current"), alice.device_id);
}

std::string backend_name(const ::testing::TestParamInfo<std::string>& i) { return i.param; }
INSTANTIATE_TEST_SUITE_P(Backends, Profiles, ::testing::Values("sqlite", "postgres"), backend_name);

}  // namespace
}  // namespace e2e
