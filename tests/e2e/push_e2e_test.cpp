// Issue 15: push notifications through confabd, against the loopback stand-ins of Web Push, FCM
// and APNs (tests/push-standins/standins.mjs: they validate each request as the real services
// document it, decrypt Web Push bodies, and record what they accepted). The real services are
// unreachable from tests.
//
// One user with three devices (a browser, an Android phone, an iPhone): a device that received the
// message in the grace period gets no push, the others do, with ids and counts only; reading on
// one device clears the others' notifications; notification levels and mentions decide; provider
// errors (gone, 429 with Retry-After, 500, a bad token) end as the docs say; a provider that does not
// answer within --push-timeout-ms gets the push again after back-off, with the same idempotency key,
// and it ends sent once; 1 000 pushes queued when confabd is killed are each sent once after it
// restarts; three nodes over PostgreSQL share the queue, each sends some, and each push is sent once;
// bad registrations get typed errors.
#include "e2e/harness.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace e2e {
namespace {

namespace fs = std::filesystem;

void sh(const std::string& cmd) {
  if (std::system((cmd + " 2>/dev/null").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

std::string file_text(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}


// The stand-ins' process, keys and URLs (one set for the whole suite).
struct standins {
  fs::path dir;
  child_process proc;
  std::string webpush, fcm, apns;
  unsigned short control = 0;

  void start() {
    dir = make_temp_dir("confab-push-");
    const auto p = [&](const char* name) { return (dir / name).string(); };
    sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 "
       "-addext subjectAltName=IP:127.0.0.1 -keyout " + p("tls.key") + " -out " + p("tls.pem"));
    sh("openssl ecparam -name prime256v1 -genkey -noout -out " + p("vapid.pem"));
    sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + p("apns.p8"));
    sh("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out " + p("sa.pem"));
    json::object sa{{"type", "service_account"}, {"project_id", "confab-e2e"}, {"private_key_id", "e2e-key-1"},
                    {"private_key", file_text(dir / "sa.pem")}, {"client_email", "push@confab-e2e.iam.gserviceaccount.com"},
                    {"token_uri", "https://oauth2.googleapis.com/token"}};
    std::ofstream(dir / "sa.json") << json::serialize(sa);
    proc.start({"node", std::string(CONFAB_SOURCE_DIR) + "/tests/push-standins/standins.mjs", "--cert", p("tls.pem"), "--key",
                p("tls.key"), "--service-account", p("sa.json"), "--apns-key", p("apns.p8"), "--apns-key-id", "KEYID12345",
                "--apns-team-id", "TEAMID1234"},
               dir / "standins.log");
    json::object urls;
    const bool up = eventually(
        [&] {
          std::istringstream in(file_text(dir / "standins.log"));
          for (std::string line; std::getline(in, line);) {
            boost::system::error_code ec;
            auto v = json::parse(line, ec);
            if (!ec && v.is_object() && v.as_object().contains("control")) {
              urls = v.as_object();
              return true;
            }
          }
          return false;
        },
        std::chrono::seconds(20));
    if (!up) throw std::runtime_error("push stand-ins did not start:\n" + tail_file(dir / "standins.log", 20));
    webpush = jstr(urls, "webpush");
    fcm = jstr(urls, "fcm");
    apns = jstr(urls, "apns");
    const auto c = jstr(urls, "control");
    control = static_cast<unsigned short>(std::stoi(c.substr(c.rfind(':') + 1)));
  }

  json::object control_call(const std::string& path, const json::object& body = {}) const {
    auto r = http_client(control).post_raw(path, json::serialize(body));
    if (r.status != 200) throw std::runtime_error(path + ": " + std::to_string(r.status) + " " + r.body);
    return r.json.as_object();
  }
  json::object received() const { return control_call("/control/received"); }
  void reset() const { control_call("/control/reset"); }
  void script(const std::string& provider, const std::string& match, json::array responses) const {
    control_call("/control/script", {{"provider", provider}, {"match", match}, {"responses", std::move(responses)}});
  }
  json::object subscription() const { return control_call("/control/subscription"); }

  // confabd's flags for all three providers, trusting the stand-ins' certificate.
  std::vector<std::string> flags(const std::string& grace_ms) const {
    const auto origin = webpush.substr(0, webpush.find('/', 8));
    return {"--push-vapid-key", (dir / "vapid.pem").string(), "--push-vapid-subject", "mailto:ops@example.com",
            "--push-fcm-account", (dir / "sa.json").string(), "--push-fcm-url", fcm, "--push-fcm-token-url", fcm + "/token",
            "--push-apns-key", (dir / "apns.p8").string(), "--push-apns-key-id", "KEYID12345", "--push-apns-team-id",
            "TEAMID1234", "--push-apns-url", apns, "--push-ca-file", (dir / "tls.pem").string(), "--push-allow-origin",
            origin, "--push-grace-ms", grace_ms};
  }
};

const std::string ios_token(64, 'a');
// push_explain is polled: a generous request budget.
const std::vector<std::string> fast = {"--argon2-ops", "1", "--argon2-mem-kib", "8", "--admin", "ana", "--trace-sample", "0",
                                       "--rate-per-sec", "1000", "--rate-burst", "1000"};

class Push : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new standins;
    s_->start();
  }
  static void TearDownTestSuite() {
    delete s_;
    s_ = nullptr;
  }
  void SetUp() override {
    dir_ = make_temp_dir("confab-push-e2e-");
    s_->reset();
  }
  void TearDown() override {
    if (HasFailure()) {
      if (srv_) std::cerr << "---- confabd log\n" << tail_file(srv_->log_path(), 40);
      std::cerr << "---- stand-ins log\n" << tail_file(s_->dir / "standins.log", 20);
    }
    srv_.reset();
    std::error_code ec;
    if (!HasFailure()) fs::remove_all(dir_, ec);
  }
  server_process& start(const std::string& grace_ms = "1000", std::vector<std::string> extra = {}) {
    auto a = fast;
    a.insert(a.end(), {"--storage", "sqlite", "--sqlite-path", (dir_ / "confab.db").string(), "--feed-poll-ms", "50"});
    auto f = s_->flags(grace_ms);
    a.insert(a.end(), f.begin(), f.end());
    a.insert(a.end(), extra.begin(), extra.end());
    if (!srv_) srv_ = std::make_unique<server_process>(dir_);
    srv_->start(a);
    http_ = std::make_unique<http_client>(srv_->port());
    return *srv_;
  }

  // ana, and ben on a browser, an Android phone and an iPhone, each with its push target.
  void people() {
    ana_ = register_user(*http_, "ana");
    web_ = register_user(*http_, "ben", "browser");
    android_ = login(*http_, "ben", "android");
    iphone_ = login(*http_, "ben", "iphone");
    sub_ = s_->subscription();
    json::object keys = jobj(sub_, "keys");
    http_->call("push_register", {{"target", {{"kind", "webpush"}, {"endpoint", jstr(sub_, "endpoint")}, {"keys", keys}}}},
                web_.token);
    http_->call("push_register", {{"target", {{"kind", "fcm"}, {"token", "fcm-ben-android"}}}}, android_.token);
    http_->call("push_register",
                {{"target", {{"kind", "apns"}, {"token", ios_token}, {"topic", "com.example.confab"}, {"environment", "production"}}}},
                iphone_.token);
    conv_ = jint(http_->call("create_direct", {{"username", "ben"}}, ana_.token), "conv");
  }
  std::int64_t send(const std::string& text) {
    return jint(http_->call("send", {{"conv", conv_}, {"client_id", random_name(12)}, {"text", text}}, ana_.token), "seq");
  }
  json::object explain(std::int64_t seq) {
    return http_->call("push_explain", {{"username", "ben"}, {"conv", conv_}, {"seq", seq}}, ana_.token).as_object();
  }
  // confab_push_outcomes_total{provider, outcome} on the node whose metrics listen on port.
  static double outcomes(unsigned short port, const std::string& provider, const std::string& outcome) {
    const auto r = http_get(port, "/metrics");
    if (r.status != 200) throw std::runtime_error("GET /metrics: status " + std::to_string(r.status));
    return metric_sample(r.body, "confab_push_outcomes_total{provider=\"" + provider + "\",outcome=\"" + outcome + "\"}")
        .value_or(0);
  }
  // Nodes over pg, each with its own metrics listener and flags (appended to the common ones).
  struct cluster {
    std::vector<std::unique_ptr<server_process>> nodes;
    std::vector<unsigned short> metrics_ports;
    std::vector<http_client> h;
  };
  cluster start_nodes(pg_database& pg, const std::vector<std::vector<std::string>>& flags) {
    cluster c;
    for (std::size_t i = 0; i < flags.size(); ++i) {
      c.metrics_ports.push_back(free_port());
      auto a = fast;
      a.insert(a.end(), {"--storage", "postgres", "--pg-dsn", pg.dsn(), "--feed-poll-ms", "50", "--metrics-listen",
                         "127.0.0.1:" + std::to_string(c.metrics_ports.back())});
      a.insert(a.end(), flags[i].begin(), flags[i].end());
      const auto d = dir_ / ("n" + std::to_string(i));
      fs::create_directories(d);
      c.nodes.push_back(std::make_unique<server_process>(d));
      c.nodes.back()->start(a);
      c.h.emplace_back(c.nodes.back()->port());
    }
    return c;
  }

  // The state of the push of kind for seq on device (from push_explain), "" if none.
  std::string state(std::int64_t seq, std::int64_t device, const std::string& kind = "message") {
    const auto why = explain(seq);
    for (const auto& d : jarr(why, "devices"))
      if (jint(d, "device_id") == device)
        for (const auto& p : jarr(d, "pushes"))
          if (jstr(p, "kind") == kind) return jstr(p, "state");
    return "";
  }
  // The push of kind for seq on device (from push_explain); throws if there is none.
  json::object row(std::int64_t seq, std::int64_t device, const std::string& kind = "message") {
    const auto why = explain(seq);
    for (const auto& d : jarr(why, "devices"))
      if (jint(d, "device_id") == device)
        for (const auto& p : jarr(d, "pushes"))
          if (jstr(p, "kind") == kind) return p.as_object();
    throw std::runtime_error("no " + kind + " push for seq " + std::to_string(seq) + " on device " + std::to_string(device));
  }
  std::size_t count(const std::string& provider) { return jarr(s_->received(), provider).size(); }
  bool wait_count(const std::string& provider, std::size_t n) {
    return eventually([&] { return count(provider) >= n; }, std::chrono::seconds(20));
  }

  static standins* s_;
  fs::path dir_;
  std::unique_ptr<server_process> srv_;
  std::unique_ptr<http_client> http_;
  account ana_, web_, android_, iphone_;
  json::object sub_;
  std::int64_t conv_ = 0;
};
standins* Push::s_ = nullptr;

TEST_F(Push, a_device_that_got_the_message_is_not_pushed_the_others_are_with_ids_and_counts_only) {
  start();
  people();
  const auto seq = send("a secret text");
  http_->call("delivered", {{"conv", conv_}, {"seq", seq}}, web_.token);  // the browser is online
  ASSERT_TRUE(wait_count("fcm", 1) && wait_count("apns", 1));
  ASSERT_TRUE(eventually([&] { return state(seq, web_.device_id) == "skipped"; }));
  EXPECT_EQ(count("webpush"), 0u);

  auto got = s_->received();
  const auto& fcm = jobj(jarr(got, "fcm").at(0), "message");
  EXPECT_EQ(jstr(fcm, "token"), "fcm-ben-android");
  const auto& data = jobj(fcm, "data");
  EXPECT_EQ(jstr(data, "type"), "message");
  EXPECT_EQ(jstr(data, "conversation_id"), std::to_string(conv_));
  EXPECT_EQ(jstr(data, "seq"), std::to_string(seq));
  EXPECT_EQ(jstr(data, "unread"), "1");
  EXPECT_EQ(json::serialize(got).find("a secret text"), std::string::npos) << "no preview without --push-previews";
  const auto& apns = jarr(got, "apns").at(0);
  EXPECT_EQ(jstr(apns, "device_token"), ios_token);
  EXPECT_EQ(jstr(jobj(apns, "headers"), "apns-topic"), "com.example.confab");
  EXPECT_EQ(jint(jobj(jobj(apns, "payload"), "aps"), "badge"), 1);

  auto why = explain(seq);
  EXPECT_EQ(jstr(why, "verdict"), "queued: the notification level is all");
  EXPECT_TRUE(eventually([&] { return state(seq, android_.device_id) == "sent"; }));
  EXPECT_TRUE(eventually([&] { return state(seq, iphone_.device_id) == "sent"; }));
}

// A traced message's trace (admin_trace) shows its pushes from the durable queue: each queued
// row, and the outcome on the node that sent it.
TEST_F(Push, a_traced_message_shows_its_pushes_in_its_trace) {
  start("0");
  people();
  const auto sent = http_->call("send", {{"conv", conv_}, {"client_id", "traced"}, {"text", "hi"}, {"trace", true}}, ana_.token);
  const auto seq = jint(sent, "seq");
  const auto trace_id = jint(sent, "trace_id");
  ASSERT_TRUE(eventually([&] { return state(seq, android_.device_id) == "sent" && state(seq, iphone_.device_id) == "sent"; }));
  const auto t = http_->call("admin_trace", {{"trace_id", trace_id}}, ana_.token).as_object();
  std::set<std::int64_t> queued, pushed;
  std::int64_t committed_at = 0, last_at = 0;
  for (const auto& hop : jarr(t, "hops")) {
    const auto& h = hop.as_object();
    const auto kind = jstr(h, "hop");
    const auto at = jint(h, "at_us");
    EXPECT_GE(at, last_at) << "hops oldest first";
    last_at = at;
    if (kind == "committed") committed_at = at;
    if (kind == "push_queued") {
      queued.insert(jint(h, "device"));
      EXPECT_EQ(jstr(h, "rule"), "all");
    }
    if (kind == "push" && jstr(h, "state") == "sent") {
      pushed.insert(jint(h, "device"));
      EXPECT_NE(jstr(h, "node"), "queue") << "the node that sent it";
      EXPECT_EQ(jint(h, "attempts"), 1);
    }
  }
  EXPECT_GT(committed_at, 0);
  EXPECT_EQ(queued, (std::set<std::int64_t>{web_.device_id, android_.device_id, iphone_.device_id}));
  EXPECT_TRUE(pushed.count(android_.device_id) && pushed.count(iphone_.device_id)) << dump(t);
  EXPECT_NE(jstr(t, "mermaid").find("push"), std::string::npos);
}

// Structured logs carry the trace id of the message they concern (issue 17): a push of a traced
// message that ends badly is logged with it, one of an untraced message without.
TEST_F(Push, a_push_log_line_names_the_traced_message) {
  start("0");
  people();
  s_->script("webpush", jstr(sub_, "endpoint"), {json::object{{"status", 410}}});
  const auto plain = send("plain");
  ASSERT_TRUE(eventually([&] { return state(plain, web_.device_id) == "dead"; }));
  s_->script("apns", ios_token, {json::object{{"status", 400}, {"body", "{\"reason\":\"BadDeviceToken\"}"}}});
  const auto sent = http_->call("send", {{"conv", conv_}, {"client_id", "traced-gone"}, {"text", "hi"}, {"trace", true}}, ana_.token);
  const auto seq = jint(sent, "seq");
  const auto trace_id = jint(sent, "trace_id");
  ASSERT_TRUE(eventually([&] { return state(seq, iphone_.device_id) == "dead"; }));
  std::string traced_line, plain_line;
  std::istringstream in(file_text(srv_->log_path()));
  for (std::string line; std::getline(in, line);) {
    if (line.find("push target gone; removed") == std::string::npos) continue;
    const auto v = json::parse(line).as_object();
    if (jint(v, "seq") == seq) traced_line = line;
    if (jint(v, "seq") == plain) plain_line = line;
  }
  ASSERT_FALSE(traced_line.empty()) << tail_file(srv_->log_path(), 20);
  EXPECT_EQ(jint(json::parse(traced_line), "trace_id"), trace_id) << traced_line;
  ASSERT_FALSE(plain_line.empty());
  EXPECT_EQ(plain_line.find("trace_id"), std::string::npos) << plain_line;
}

TEST_F(Push, reading_on_one_device_clears_the_notifications_on_the_others) {
  start("300");
  people();
  const auto seq = send("hello");
  ASSERT_TRUE(wait_count("fcm", 1) && wait_count("apns", 1) && wait_count("webpush", 1));
  auto web = jarr(s_->received(), "webpush").at(0);
  auto payload = json::parse(jstr(web, "payload")).as_object();
  EXPECT_EQ(jstr(payload, "type"), "message");
  EXPECT_EQ(jint(payload, "conversation_id"), conv_);
  EXPECT_EQ(jint(payload, "seq"), seq);

  // The outcomes recorded first: a read that races a send also clears the reader (storage tests).
  for (auto d : {web_.device_id, android_.device_id, iphone_.device_id})
    ASSERT_TRUE(eventually([&] { return state(seq, d) == "sent"; }));
  http_->call("read", {{"conv", conv_}, {"seq", seq}}, android_.token);
  ASSERT_TRUE(wait_count("apns", 2) && wait_count("webpush", 2));
  auto got = s_->received();
  auto clear = json::parse(jstr(jarr(got, "webpush").at(1), "payload")).as_object();
  EXPECT_EQ(jstr(clear, "type"), "clear");
  EXPECT_EQ(jint(clear, "seq"), seq);
  EXPECT_EQ(jint(clear, "unread"), 0);
  const auto& apns = jarr(got, "apns").at(1);
  EXPECT_EQ(jstr(jobj(apns, "headers"), "apns-push-type"), "background");
  EXPECT_EQ(jint(jobj(jobj(apns, "payload"), "aps"), "badge"), 0);
  EXPECT_EQ(count("fcm"), 1u) << "no clear for the device that read";
  EXPECT_TRUE(eventually([&] { return state(seq, web_.device_id, "clear") == "sent"; }));
  EXPECT_EQ(state(seq, android_.device_id, "clear"), "");
}

TEST_F(Push, notification_levels_and_mentions_decide) {
  start("0");
  people();
  http_->call("set_notify", {{"conv", conv_}, {"level", "mentions"}}, web_.token);
  const auto plain = send("nothing for ben");
  const auto named = send("hey @ben");
  ASSERT_TRUE(wait_count("fcm", 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto fcm = jarr(s_->received(), "fcm");
  ASSERT_EQ(fcm.size(), 1u);
  EXPECT_EQ(jstr(jobj(jobj(fcm.at(0), "message"), "data"), "seq"), std::to_string(named));
  EXPECT_EQ(jstr(explain(plain), "verdict"), "the notification level is mentions, and the message does not mention the user");
  EXPECT_EQ(jstr(explain(named), "verdict"), "queued: the user is mentioned");

  http_->call("set_notify", {{"conv", conv_}, {"level", "all"}, {"muted_until", 4102444800000}}, web_.token);
  const auto muted = send("hey @ben, muted");
  EXPECT_EQ(jstr(explain(muted), "verdict"), "the conversation's notifications are muted");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(count("fcm"), 1u);
}

TEST_F(Push, provider_errors_end_as_documented) {
  start("0");
  people();
  s_->script("webpush", jstr(sub_, "endpoint"), {json::object{{"status", 410}}});
  s_->script("fcm", "fcm-ben-android", {json::object{{"status", 429}, {"headers", {{"retry-after", "1"}}}}});
  s_->script("apns", ios_token, {json::object{{"status", 500}}, json::object{{"status", 503}}});
  const auto seq = send("one");
  ASSERT_TRUE(eventually([&] { return state(seq, web_.device_id) == "dead"; }));
  ASSERT_TRUE(wait_count("fcm", 1)) << "429: sent again after Retry-After";
  ASSERT_TRUE(wait_count("apns", 1)) << "500, 503: sent again after back-off";
  EXPECT_TRUE(eventually([&] { return state(seq, android_.device_id) == "sent"; }));
  EXPECT_TRUE(eventually([&] { return state(seq, iphone_.device_id) == "sent"; }));
  for (const auto& dev : json::array(jarr(explain(seq), "devices"))) {
    if (jint(dev, "device_id") == web_.device_id) {
      EXPECT_TRUE(dev.at("target").is_null()) << "the gone subscription was removed";
    }
  }

  // A bad device token: the target is dropped; a bad request for another reason: rejected, kept.
  s_->script("apns", ios_token, {json::object{{"status", 400}, {"body", "{\"reason\":\"BadDeviceToken\"}"}}});
  s_->script("fcm", "fcm-ben-android", {json::object{{"status", 403}, {"body", "{\"error\":{\"status\":\"PERMISSION_DENIED\"}}"}}});
  const auto two = send("two");
  ASSERT_TRUE(eventually([&] { return state(two, iphone_.device_id) == "dead"; }));
  ASSERT_TRUE(eventually([&] { return state(two, android_.device_id) == "rejected"; }));
  const auto three = send("three");
  ASSERT_TRUE(wait_count("fcm", 2)) << "a rejected push leaves the target in place";
  EXPECT_EQ(state(three, iphone_.device_id), "");
}

TEST_F(Push, a_provider_that_does_not_answer_in_time_gets_the_push_again_and_it_ends_sent_once) {
  constexpr int timeout_ms = 1000;
  start("0", {"--push-timeout-ms", std::to_string(timeout_ms)});
  people();
  // APNs never answers the first request; FCM answers it 200, but only after the client gave up.
  s_->script("apns", ios_token, {json::object{{"hang", true}}});
  s_->script("fcm", "fcm-ben-android", {json::object{{"status", 200}, {"delay_ms", 3 * timeout_ms}}});
  const auto sent_at = std::chrono::steady_clock::now();
  const auto seq = send("slow providers");
  ASSERT_TRUE(eventually([&] { return state(seq, iphone_.device_id) == "sent"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(eventually([&] { return state(seq, android_.device_id) == "sent"; }, std::chrono::seconds(20)));
  ASSERT_TRUE(eventually([&] { return state(seq, web_.device_id) == "sent"; }));

  // Let the late FCM answer come due (it finds the request closed), then look.
  std::this_thread::sleep_until(sent_at + std::chrono::milliseconds(3 * timeout_ms + 1000));
  const auto got = s_->received();
  const auto& apns = jarr(got, "apns");
  ASSERT_EQ(apns.size(), 1u) << "APNs accepted the push once";
  ASSERT_EQ(jarr(got, "fcm").size(), 1u) << "FCM accepted the push once";
  EXPECT_EQ(jstr(jobj(jarr(got, "fcm").at(0), "message"), "token"), "fcm-ben-android");
  EXPECT_EQ(jarr(got, "webpush").size(), 1u);
  const auto& requests = jobj(got, "requests");
  EXPECT_EQ(jint(requests, "apns"), 2) << "the one that timed out and its retry";
  EXPECT_EQ(jint(requests, "fcm"), 2);

  // Both scripted requests were closed by confabd, unanswered, after about --push-timeout-ms (the
  // default of 10 s would show here).
  const auto& scripted = jarr(got, "scripted");
  ASSERT_EQ(scripted.size(), 2u) << json::serialize(scripted);
  std::string timed_out_apns_id;
  for (const auto& e : scripted) {
    SCOPED_TRACE(json::serialize(e));
    EXPECT_EQ(e.at("answered"), json::value(false));
    ASSERT_TRUE(e.at("gone_after_ms").is_int64());
    EXPECT_GE(e.at("gone_after_ms").as_int64(), timeout_ms / 2);
    EXPECT_LT(e.at("gone_after_ms").as_int64(), 5 * timeout_ms);
    if (jstr(e, "provider") == "apns") timed_out_apns_id = jstr(e, "apns_id");
  }
  EXPECT_FALSE(timed_out_apns_id.empty()) << "the timed-out APNs request carried an apns-id";
  EXPECT_EQ(jstr(jobj(apns.at(0), "headers"), "apns-id"), timed_out_apns_id) << "the retry reused the idempotency key";

  // Each row: sent, on its second attempt; the Web Push row, never delayed, on its first.
  const auto iphone = row(seq, iphone_.device_id), android = row(seq, android_.device_id), web = row(seq, web_.device_id);
  EXPECT_EQ(jstr(iphone, "state"), "sent");
  EXPECT_EQ(jint(iphone, "attempts"), 2);
  EXPECT_EQ(jstr(android, "state"), "sent");
  EXPECT_EQ(jint(android, "attempts"), 2);
  EXPECT_EQ(jint(web, "attempts"), 1);
}

TEST_F(Push, a_thousand_pushes_queued_when_confabd_is_killed_are_each_sent_once_after_it_restarts) {
  start("10000");  // long enough that the kill comes before any is due
  auto ana = register_user(*http_, "ana");
  json::array members;
  for (int i = 0; i < 10; ++i) {
    auto u = register_user(*http_, "u" + std::to_string(i));
    http_->call("push_register", {{"target", {{"kind", "fcm"}, {"token", "fcm-u" + std::to_string(i)}}}}, u.token);
    members.push_back(u.user_id);
  }
  const auto g = jint(http_->call("create_group", {{"title", "ten"}, {"members", members}}, ana.token), "conv");
  std::set<std::string> want;
  for (int i = 0; i < 100; ++i) {
    const auto seq = jint(http_->call("send", {{"conv", g}, {"client_id", "k" + std::to_string(i)}, {"text", "m"}}, ana.token), "seq");
    for (int u = 0; u < 10; ++u) want.insert("fcm-u" + std::to_string(u) + "/" + std::to_string(seq));
  }
  srv_->kill9();
  EXPECT_EQ(count("fcm"), 0u) << "killed before the grace period ended";
  start("10000");  // the same database
  ASSERT_TRUE(eventually([&] { return count("fcm") >= 1000; }, std::chrono::seconds(60)));
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  std::multiset<std::string> got;
  for (const auto& m : json::array(jarr(s_->received(), "fcm"))) {
    const auto& msg = jobj(m, "message");
    got.insert(jstr(msg, "token") + "/" + jstr(jobj(msg, "data"), "seq"));
  }
  EXPECT_EQ(got.size(), 1000u) << "no push twice";
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), want) << "every push once";
}

TEST_F(Push, bad_registrations_get_typed_errors) {
  start();
  auto ana = register_user(*http_, "ana");
  const auto reg = [&](json::object target) { return http_->post("push_register", {{"target", std::move(target)}}, ana.token); };
  EXPECT_EQ(http_->post("push_register", {}, ana.token).error_code(), "missing_field");
  EXPECT_EQ(reg({{"kind", "pigeon"}}).error_code(), "invalid_field");
  EXPECT_EQ(reg({{"kind", "fcm"}, {"token", "has spaces"}}).error_code(), "invalid_field");
  EXPECT_EQ(reg({{"kind", "apns"}, {"token", "xyz"}, {"topic", "a.b"}, {"environment", "production"}}).error_code(), "invalid_field");
  auto sub = s_->subscription();
  auto keys = jobj(sub, "keys");
  auto r = reg({{"kind", "webpush"}, {"endpoint", "https://10.1.2.3/push/x"}, {"keys", keys}});
  EXPECT_EQ(r.error_code(), "invalid_field");
  EXPECT_NE(r.body.find("endpoint"), std::string::npos) << r.body;
  json::object bad_keys = keys;
  bad_keys["p256dh"] = "AAAA";
  EXPECT_EQ(reg({{"kind", "webpush"}, {"endpoint", jstr(sub, "endpoint")}, {"keys", bad_keys}}).error_code(), "invalid_field");
  EXPECT_EQ(http_->post("push_register", {{"target", "not an object"}}, ana.token).error_code(), "invalid_field");
  EXPECT_EQ(http_->post("push_register", {{"target", {{"kind", "fcm"}, {"token", "t"}}}}).error_code(), "unauthenticated");
  EXPECT_EQ(http_->call("push_unregister", {}, ana.token).at("removed"), json::value(false));
  http_->call("push_register", {{"target", {{"kind", "fcm"}, {"token", "ok-token"}}}}, ana.token);
  EXPECT_EQ(http_->call("push_unregister", {}, ana.token).at("removed"), json::value(true));
  EXPECT_EQ(jstr(http_->call("push_vapid_key"), "key").size(), 87u);
  EXPECT_EQ(http_->post("push_explain", {{"username", "ana"}, {"conv", 1}, {"seq", 1}}, register_user(*http_, "eve").token).error_code(),
            "forbidden");
}

TEST(PushOff, a_server_without_keys_says_it_sends_no_push) {
  auto dir = make_temp_dir("confab-push-off-");
  server_process srv(dir);
  srv.start({"--argon2-ops", "1", "--argon2-mem-kib", "8", "--sqlite-path", (dir / "c.db").string()});
  http_client http(srv.port());
  auto a = register_user(http, "ana");
  EXPECT_EQ(http.post("push_vapid_key").error_code(), "unavailable");
  EXPECT_EQ(http.post("push_register", {{"target", {{"kind", "fcm"}, {"token", "t"}}}}, a.token).error_code(), "unavailable");
  srv.stop();
  server_process bad(dir);
  std::ofstream(dir / "junk.pem") << "junk";
  EXPECT_THROW(bad.start({"--sqlite-path", (dir / "d.db").string(), "--push-vapid-key", (dir / "junk.pem").string()}),
               std::exception)
      << "a key file that is not a key stops confabd at start-up";
  EXPECT_NE(file_text(bad.log_path()).find("--push-vapid-key"), std::string::npos);
  fs::remove_all(dir);
}

// Three nodes claim from one queue. So that every node must claim some, whatever the order in which
// their polls come: a worker has at most 1024 pushes outstanding and sends at most 256 to one
// provider at once (docs/push.md), so the first 3 * 256 requests APNs gets are all those sent
// before any answer; the stand-in answers each of them 5 s late, and all 2 400 pushes are queued
// well before that. Until then two nodes can hold at most 2 048, and the third claims the rest.
TEST_F(Push, three_nodes_over_postgresql_share_the_queue_and_send_each_push_once) {
  pg_database pg;
  constexpr int node_count = 3, member_count = 20, devices_per_member = 4, message_count = 30;
  constexpr std::size_t total = member_count * devices_per_member * message_count;
  auto c = start_nodes(pg, std::vector<std::vector<std::string>>(node_count, s_->flags("0")));
  auto& h = c.h;
  // Twenty members with four iPhones each, registered through all three nodes.
  auto ana = register_user(h[0], "ana");
  json::array members;
  std::vector<std::string> tokens;
  for (int i = 0; i < member_count; ++i) {
    const auto name = "m" + std::to_string(i);
    const auto& via = h[static_cast<std::size_t>(i % node_count)];
    for (int d = 0; d < devices_per_member; ++d) {
      auto dev = d == 0 ? register_user(via, name, "phone0") : login(via, name, "phone" + std::to_string(d));
      if (d == 0) members.push_back(dev.user_id);
      char hex[9];
      std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(i * devices_per_member + d));
      tokens.push_back(std::string(56, 'c') + hex);
      via.call("push_register",
               {{"target", {{"kind", "apns"}, {"token", tokens.back()}, {"topic", "com.example.confab"}, {"environment", "production"}}}},
               dev.token);
    }
  }
  s_->script("apns", "", json::array(node_count * 256, json::object{{"delay_ms", 5000}}));  // validated, recorded, answered late
  const auto g = jint(h[1].call("create_group", {{"title", "twenty"}, {"members", members}}, ana.token), "conv");
  std::set<std::string> want;
  for (int i = 0; i < message_count; ++i) {
    const auto seq = jint(h[static_cast<std::size_t>(i % node_count)].call(
                              "send", {{"conv", g}, {"client_id", "c" + std::to_string(i)}, {"text", "m"}}, ana.token),
                          "seq");
    for (const auto& t : tokens) want.insert(t + "/" + std::to_string(seq));
  }
  ASSERT_EQ(want.size(), total);

  // Every outcome recorded on some node (each node's confab_push_outcomes_total), then a look at
  // what the stand-in accepted.
  std::vector<double> sent(node_count, 0);
  double sum = 0;
  std::string shares;
  const bool all_sent = eventually(
      [&] {
        sum = 0;
        shares.clear();
        for (std::size_t i = 0; i < sent.size(); ++i) {
          sent[i] = outcomes(c.metrics_ports[i], "apns", "sent");
          sum += sent[i];
          shares += (shares.empty() ? "" : ", ") + std::to_string(static_cast<long long>(sent[i]));
        }
        return sum >= static_cast<double>(total);
      },
      std::chrono::seconds(90));
  std::cerr << "pushes sent per node: " << shares << "\n";
  ASSERT_TRUE(all_sent) << "sent per node: " << shares << "; the stand-in accepted " << count("apns") << " of " << total;
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // a duplicate would show by now

  std::map<std::string, int> per_push;
  std::set<std::string> ids;
  const auto got = s_->received();
  for (const auto& m : jarr(got, "apns")) {
    ++per_push[jstr(m, "device_token") + "/" + std::to_string(jint(jobj(m, "payload"), "seq"))];
    ids.insert(jstr(jobj(m, "headers"), "apns-id"));
  }
  std::set<std::string> pushes;
  for (const auto& [push, n] : per_push) {
    EXPECT_EQ(n, 1) << push << " accepted " << n << " times";
    pushes.insert(push);
  }
  EXPECT_EQ(pushes, want) << "every push accepted once";
  EXPECT_EQ(jarr(got, "apns").size(), total);
  EXPECT_EQ(ids.size(), total) << "one idempotency key per push";
  EXPECT_EQ(sum, static_cast<double>(total)) << "no push recorded sent twice: " << shares;
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_GE(sent[i], 1.0) << "node " << i << " sent none: " << shares;
}

// Nodes with different keys: each claims only the rows of its own providers, so none is refused
// for want of a key (before, a node without FCM's key claimed FCM rows and recorded them rejected).
TEST_F(Push, nodes_with_different_keys_each_send_their_own_providers_pushes) {
  pg_database pg;
  const std::vector<std::vector<std::string>> keys = {
      {"--push-fcm-account", (s_->dir / "sa.json").string(), "--push-fcm-url", s_->fcm, "--push-fcm-token-url", s_->fcm + "/token"},
      {"--push-apns-key", (s_->dir / "apns.p8").string(), "--push-apns-key-id", "KEYID12345", "--push-apns-team-id", "TEAMID1234",
       "--push-apns-url", s_->apns}};
  auto flags = keys;
  for (auto& f : flags) f.insert(f.end(), {"--push-grace-ms", "0", "--push-ca-file", (s_->dir / "tls.pem").string()});
  auto c = start_nodes(pg, flags);
  auto& h = c.h;
  auto ana = register_user(h[0], "ana");
  auto android = register_user(h[0], "ben", "android");
  auto iphone = login(h[1], "ben", "iphone");
  h[0].call("push_register", {{"target", {{"kind", "fcm"}, {"token", "fcm-ben-android"}}}}, android.token);
  h[1].call("push_register",
            {{"target", {{"kind", "apns"}, {"token", ios_token}, {"topic", "com.example.confab"}, {"environment", "production"}}}},
            iphone.token);
  const auto conv = jint(h[0].call("create_direct", {{"username", "ben"}}, ana.token), "conv");
  constexpr int messages = 10;
  for (int i = 0; i < messages; ++i)
    h[static_cast<std::size_t>(i % 2)].call("send", {{"conv", conv}, {"client_id", "m" + std::to_string(i)}, {"text", "hi"}}, ana.token);
  ASSERT_TRUE(wait_count("fcm", messages) && wait_count("apns", messages));

  // Which node sent what (recorded once the answers are in), and that nothing was refused anywhere.
  EXPECT_TRUE(eventually([&] { return outcomes(c.metrics_ports[0], "fcm", "sent") == messages; }))
      << outcomes(c.metrics_ports[0], "fcm", "sent");
  EXPECT_TRUE(eventually([&] { return outcomes(c.metrics_ports[1], "apns", "sent") == messages; }))
      << outcomes(c.metrics_ports[1], "apns", "sent");
  for (std::size_t node = 0; node < 2; ++node)
    for (const std::string provider : {"fcm", "apns"}) {
      EXPECT_EQ(outcomes(c.metrics_ports[node], provider, "rejected"), 0.0) << "node " << node << " refused " << provider;
      if ((provider == "fcm") != (node == 0)) {
        EXPECT_EQ(outcomes(c.metrics_ports[node], provider, "sent"), 0.0) << "node " << node;
      }
    }
  EXPECT_EQ(count("fcm"), static_cast<std::size_t>(messages));
  EXPECT_EQ(count("apns"), static_cast<std::size_t>(messages));
}

}  // namespace
}  // namespace e2e
