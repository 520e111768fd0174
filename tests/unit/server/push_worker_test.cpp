// The push worker's pure parts (issue 15): what a claimed row becomes (send or skip, and what the
// notification says), the retry back-off, the idempotency key, the --push-* flags (and that
// --push-timeout-ms reaches the senders' HTTP client) and the key files' errors.
#include "server/config.hpp"
#include "server/push_setup.hpp"
#include "server/push_worker.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

using namespace confab;
using server::decide;
using server::push_worker_options;
using server::retry_delay;

namespace {

storage::push_job message_job() {
  storage::push_job j;
  j.id = 42;
  j.device = 9;
  j.user = 3;
  j.conv = 7;
  j.seq = 12;
  j.kind = "message";
  j.target = storage::push_target_record{9, 3, "fcm", R"({"kind":"fcm","token":"abc"})"};
  j.member = true;
  j.device_delivered = 11;
  j.read_seq = 10;
  j.unread = 5;
  j.sender = "ana";
  j.text = "héllo wörld";
  j.content_type = "text/plain";
  return j;
}

server::parse_result run(std::vector<std::string> args) {
  args.insert(args.begin(), "confabd");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return server::parse(static_cast<int>(argv.size()), argv.data());
}

}  // namespace

TEST(push_decide, a_message_not_yet_on_the_device_is_sent_with_ids_and_counts_only) {
  auto d = decide(message_job(), {});
  ASSERT_TRUE(d.send) << d.skip;
  EXPECT_EQ(d.send->kind, push::notification_kind::message);
  EXPECT_EQ(d.send->conversation_id, 7);
  EXPECT_EQ(d.send->seq, 12);
  EXPECT_EQ(d.send->unread, 5);
  EXPECT_FALSE(d.send->sender);
  EXPECT_FALSE(d.send->preview);
}

TEST(push_decide, previews_carry_the_sender_and_the_text_cut_at_a_character) {
  push_worker_options o;
  o.previews = true;
  o.preview_bytes = 2;  // "h" then the two bytes of "é": cutting at 2 would split it
  auto d = decide(message_job(), o);
  ASSERT_TRUE(d.send);
  EXPECT_EQ(d.send->sender, "ana");
  EXPECT_EQ(d.send->preview, "h");
  o.preview_bytes = 200;
  EXPECT_EQ(decide(message_job(), o).send->preview, "héllo wörld");
}

TEST(push_decide, no_preview_of_a_body_that_is_not_plain_text) {
  push_worker_options o;
  o.previews = true;
  auto j = message_job();
  j.content_type = "application/x-confab-e2ee";
  auto d = decide(j, o);
  ASSERT_TRUE(d.send);
  EXPECT_FALSE(d.send->preview);
  EXPECT_FALSE(d.send->sender);
}

TEST(push_decide, skips_say_why) {
  auto j = message_job();
  j.device_delivered = 12;
  EXPECT_EQ(decide(j, {}).skip, "the device received it within the grace period");
  j = message_job();
  j.read_seq = 12;
  EXPECT_EQ(decide(j, {}).skip, "the user read it on another device");
  j = message_job();
  j.deleted = true;
  EXPECT_EQ(decide(j, {}).skip, "the message was deleted");
  j = message_job();
  j.member = false;
  EXPECT_EQ(decide(j, {}).skip, "the user is no longer a member of the conversation");
  j = message_job();
  j.target.reset();
  EXPECT_EQ(decide(j, {}).skip, "the device has no push target any more");
}

TEST(push_decide, a_clear_is_sent_even_though_the_message_was_read) {
  auto j = message_job();
  j.kind = "clear";
  j.read_seq = 12;
  j.device_delivered = 12;
  auto d = decide(j, {});
  ASSERT_TRUE(d.send);
  EXPECT_EQ(d.send->kind, push::notification_kind::clear);
  EXPECT_EQ(d.send->seq, 12);
}

TEST(push_retry, full_jitter_doubles_up_to_the_cap_and_respects_retry_after) {
  push_worker_options o;
  o.backoff_base = std::chrono::milliseconds(1000);
  o.backoff_max = std::chrono::milliseconds(10000);
  EXPECT_EQ(retry_delay(1, std::nullopt, 0.5, o).count(), 500);
  EXPECT_EQ(retry_delay(2, std::nullopt, 0.5, o).count(), 1000);
  EXPECT_EQ(retry_delay(3, std::nullopt, 0.5, o).count(), 2000);
  EXPECT_EQ(retry_delay(9, std::nullopt, 0.5, o).count(), 5000) << "capped at backoff_max";
  EXPECT_EQ(retry_delay(60, std::nullopt, 0.999, o).count(), 9990) << "no overflow for large attempts";
  EXPECT_EQ(retry_delay(1, std::nullopt, 0.0, o).count(), 0);
  EXPECT_EQ(retry_delay(1, std::chrono::seconds(30), 0.5, o).count(), 30000) << "never before Retry-After";
}

TEST(push_retry, idempotency_keys_are_uuids_per_row) {
  EXPECT_EQ(server::idempotency_key(42), "00000000-0000-4000-8000-00000000002a");
  EXPECT_NE(server::idempotency_key(1), server::idempotency_key(2));
  EXPECT_EQ(server::idempotency_key(1).size(), 36u);
}

TEST(push_config, flags_land_in_the_push_config) {
  auto r = run({"--push-grace-ms", "500", "--push-previews", "--no-push", "--push-allow-origin",
                "https://127.0.0.1:8443,http://localhost:9000"});
  ASSERT_TRUE(r.cfg);
  EXPECT_EQ(r.cfg->push.grace.count(), 500);
  EXPECT_TRUE(r.cfg->push.previews);
  EXPECT_TRUE(r.cfg->push.disabled);
  EXPECT_EQ(r.cfg->gw.push.endpoints.allowed_origins,
            (std::vector<std::string>{"https://127.0.0.1:8443", "http://localhost:9000"}));
  auto bad = run({"--push-allow-origin", "https://x/path", "--push-grace-ms", "-1"});
  EXPECT_FALSE(bad.cfg);
  ASSERT_EQ(bad.errors.size(), 2u);
}

TEST(push_config, push_timeout_ms_reaches_the_senders_http_client) {
  auto def = run({});
  ASSERT_TRUE(def.cfg);
  EXPECT_EQ(def.cfg->push.timeout.count(), 10000);
  EXPECT_EQ(server::sender_config_of(def.cfg->push, {}, {}).http.timeout.count(), 10000);
  auto r = run({"--push-timeout-ms", "750"});
  ASSERT_TRUE(r.cfg);
  EXPECT_EQ(r.cfg->push.timeout.count(), 750);
  EXPECT_EQ(server::sender_config_of(r.cfg->push, {}, {}).http.timeout.count(), 750);
  for (const char* v : {"99", "25001", "ten"}) {
    auto bad = run({"--push-timeout-ms", v});
    EXPECT_FALSE(bad.cfg) << v;
    ASSERT_EQ(bad.errors.size(), 1u) << v;
    EXPECT_NE(bad.errors[0].find("--push-timeout-ms"), std::string::npos) << bad.errors[0];
  }
}

TEST(push_config, key_files_are_checked_at_start_up_and_errors_name_the_option) {
  server::push_config c;
  c.vapid_key_file = "/nonexistent/vapid.pem";
  auto k = server::load_push_keys(c);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("--push-vapid-key"), std::string::npos) << k.error().message;

  const auto dir = std::filesystem::temp_directory_path() / ("confab-push-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto junk = (dir / "junk.pem").string();
  std::ofstream(junk) << "not a key";
  c.vapid_key_file = junk;
  k = server::load_push_keys(c);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("--push-vapid-key"), std::string::npos);

  c.vapid_key_file.clear();
  c.fcm_account_file = junk;
  k = server::load_push_keys(c);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("--push-fcm-account"), std::string::npos);

  // A real P-256 key: Web Push on, its public key offered; APNs needs its ids.
  const auto pem = (dir / "vapid.pem").string();
  ASSERT_EQ(std::system(("openssl ecparam -name prime256v1 -genkey -noout -out " + pem + " 2>/dev/null").c_str()), 0);
  c = {};
  c.vapid_key_file = pem;
  k = server::load_push_keys(c);
  ASSERT_TRUE(k) << k.error().message;
  chat::push_options o;
  server::describe_push(c, *k, o);
  EXPECT_EQ(o.vapid_public_key.size(), 87u) << "65 bytes in base64url";
  EXPECT_FALSE(o.fcm);
  EXPECT_FALSE(o.apns);
  c.apns_key_file = pem;
  k = server::load_push_keys(c);
  ASSERT_FALSE(k);
  EXPECT_NE(k.error().message.find("--push-apns-key-id"), std::string::npos);
  std::filesystem::remove_all(dir);
}
