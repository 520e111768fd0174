// The senders against the loopback stand-ins of Web Push, FCM and APNs
// (tests/push-standins/standins.mjs), which validate each request with independent npm code and
// record what they accepted; plus the pure pieces (Retry-After, the outcome mapping).
#include "push/sender.hpp"
#include "push/vapid.hpp"
#include "unit/push/test_util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using confab::push::test::must;

namespace confab::push {
namespace {

using st = send_outcome::status;

// ------------------------------------------------------------------ pure functions

TEST(RetryAfter, Seconds) {
  EXPECT_EQ(parse_retry_after("120", 0), 120s);
  EXPECT_EQ(parse_retry_after(" 0 ", 0), 0s);
  EXPECT_EQ(parse_retry_after("99999999999999999999999", 0), retry_after_max);
  EXPECT_FALSE(parse_retry_after("12a", 0));
  EXPECT_FALSE(parse_retry_after("", 0));
  EXPECT_FALSE(parse_retry_after("-5", 0));
}

TEST(RetryAfter, HttpDate) {
  const std::int64_t t = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example)
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30), 30s);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t - 30), 30s);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", t - 30), 30s);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 100), 0s);  // in the past
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 1994 08:49:37", t));
  EXPECT_FALSE(parse_retry_after("tomorrow", t));
}

http_response answer(int status, std::string body = {}, std::optional<std::string> retry_after = {}) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after = std::move(retry_after);
  return r;
}

TEST(MapResponse, Table) {
  EXPECT_EQ(map_response(provider::webpush, answer(201), 0).st, st::sent);
  EXPECT_EQ(map_response(provider::webpush, answer(410), 0).st, st::dead_target);
  EXPECT_EQ(map_response(provider::webpush, answer(404), 0).st, st::dead_target);
  EXPECT_EQ(map_response(provider::webpush, answer(413), 0).st, st::rejected);
  auto busy = map_response(provider::fcm, answer(503, "", "7"), 0);
  EXPECT_EQ(busy.st, st::retry);
  EXPECT_EQ(busy.retry_after, 7s);
  EXPECT_EQ(map_response(provider::fcm, answer(401), 0).st, st::retry);
  EXPECT_EQ(map_response(provider::fcm, answer(404, R"({"error":{"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}})"), 0).st,
            st::dead_target);
  const std::string bad_token =
      R"({"error":{"code":400,"status":"INVALID_ARGUMENT","message":"bad","details":[{"fieldViolations":[{"field":"message.token"}]}]}})";
  EXPECT_EQ(map_response(provider::fcm, answer(400, bad_token), 0).st, st::dead_target);
  EXPECT_EQ(map_response(provider::fcm, answer(400, R"({"error":{"status":"INVALID_ARGUMENT","message":"ttl"}})"), 0).st, st::rejected);
  EXPECT_EQ(map_response(provider::apns, answer(400, R"({"reason":"BadDeviceToken"})"), 0).st, st::dead_target);
  EXPECT_EQ(map_response(provider::apns, answer(400, R"({"reason":"DeviceTokenNotForTopic"})"), 0).st, st::dead_target);
  EXPECT_EQ(map_response(provider::apns, answer(400, R"({"reason":"BadTopic"})"), 0).st, st::rejected);
  auto expired = map_response(provider::apns, answer(403, R"({"reason":"ExpiredProviderToken"})"), 0);
  EXPECT_EQ(expired.st, st::retry);
  EXPECT_EQ(expired.detail, "403 ExpiredProviderToken");
  EXPECT_EQ(map_response(provider::apns, answer(403, R"({"reason":"InvalidProviderToken"})"), 0).st, st::rejected);
  http_response down;
  down.error = "Couldn't connect to server";
  EXPECT_EQ(map_response(provider::apns, down, 0).st, st::retry);
  EXPECT_LE(map_response(provider::webpush, answer(400, std::string(5000, 'x')), 0).detail.size(), detail_max);
}

// A loopback port that accepts connections (the kernel completes the handshake) and never answers.
struct silent_listener {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  unsigned short port = 0;
  silent_listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0) throw std::runtime_error("listen");
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~silent_listener() { ::close(fd); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port) + "/"; }
};

TEST(HttpClient, TimeoutIsATransportError) {
  silent_listener l;
  http_client_options o;
  o.allow_non_public = true;
  o.timeout = 300ms;
  http_client c(o);
  std::promise<http_response> p;
  c.submit({"GET", l.url(), {}, {}, {}}, [&](http_response r) { p.set_value(std::move(r)); });
  auto f = p.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  const http_response r = f.get();
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("imed out"), std::string::npos) << r.error;
  EXPECT_EQ(map_response(provider::apns, r, 0).st, st::retry);
}

TEST(HttpClient, StopCompletesPendingRequestsOnce) {
  silent_listener l;
  http_client_options o;
  o.allow_non_public = true;
  http_client c(o);
  std::atomic<int> calls{0}, stopped{0};
  for (int i = 0; i < 4; ++i)
    c.submit({"POST", l.url(), {}, "x", {}}, [&](http_response r) {
      ++calls;
      if (r.status == 0 && r.error == "http client stopped") ++stopped;
    });
  std::this_thread::sleep_for(100ms);
  c.stop();
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(stopped.load(), 4);
  bool inline_call = false;
  c.submit({"GET", l.url(), {}, {}, {}}, [&](http_response r) { inline_call = r.error == "http client stopped"; });
  EXPECT_TRUE(inline_call);
}

// ------------------------------------------------------------------ the stand-ins

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void run(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

// node standins.mjs, killed with the test process (PR_SET_PDEATHSIG) or by stop().
class standins_process {
 public:
  void start(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const std::string o = out.string(), e = err.string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      const int fo = ::open(o.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int fe = ::open(e.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fo < 0 || fe < 0) ::_exit(125);
      ::dup2(fo, 1);
      ::dup2(fe, 2);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  ~standins_process() { stop(); }

 private:
  pid_t pid_ = -1;
};

struct urls {
  std::string webpush, fcm, apns, control;
};

class SenderTest : public ::testing::Test {
 protected:
  // A failure here leaves urls_ empty; SetUp then fails each test with the stand-ins' stderr.
  static void SetUpTestSuite() {
    try {
      start_standins();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void start_standins() {
    dir_ = fs::temp_directory_path() / ("confab-sender-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    const std::string d = dir_.string();
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1"
        " -addext subjectAltName=IP:127.0.0.1 -keyout " + d + "/key.pem -out " + d + "/cert.pem 2>/dev/null");
    apns_pem_ = test::new_p256_pem();
    std::ofstream(dir_ / "apns.p8") << apns_pem_;
    json::object sa{{"type", "service_account"}, {"project_id", "confab-standin"}, {"private_key_id", "standin-key-1"},
                    {"private_key", test::new_rsa_pem()}, {"client_email", "push@confab-standin.iam.gserviceaccount.com"},
                    {"token_uri", "https://oauth2.googleapis.com/token"}};
    sa_json_ = json::serialize(sa);
    std::ofstream(dir_ / "sa.json") << sa_json_;
    proc_ = new standins_process;
    proc_->start({"node", CONFAB_STANDINS, "--cert", d + "/cert.pem", "--key", d + "/key.pem", "--service-account", d + "/sa.json",
                  "--apns-key", d + "/apns.p8", "--apns-key-id", "KEYID12345", "--apns-team-id", "TEAMID1234"},
                 dir_ / "out.txt", dir_ / "err.txt");
    for (int i = 0; i < 300 && slurp(dir_ / "out.txt").find('\n') == std::string::npos; ++i) std::this_thread::sleep_for(50ms);
    const json::value v = json::parse(slurp(dir_ / "out.txt"));
    urls_ = {std::string(v.at("webpush").as_string()), std::string(v.at("fcm").as_string()),
             std::string(v.at("apns").as_string()), std::string(v.at("control").as_string())};
  }
  static void TearDownTestSuite() {
    delete proc_;
    proc_ = nullptr;
    fs::remove_all(dir_);
  }
  void SetUp() override {
    ASSERT_FALSE(urls_.control.empty()) << setup_error_ << "\n" << slurp(dir_ / "err.txt");
    control("POST", "/control/reset", "{}");
  }

  static http_client_options loopback_http() {
    http_client_options o;
    o.ca_file = (dir_ / "cert.pem").string();
    o.allow_non_public = true;
    o.timeout = 5s;
    return o;
  }

  // The stand-ins' control port (plain HTTP on loopback).
  static json::value control(std::string method, const std::string& path, std::string body = {}) {
    http_client_options o = loopback_http();
    o.allow_http = true;
    http_client c(o);
    std::promise<http_response> p;
    c.submit({std::move(method), urls_.control + path, {{"Content-Type", "application/json"}}, std::move(body), {}},
             [&](http_response r) { p.set_value(std::move(r)); });
    http_response r = p.get_future().get();
    if (r.status != 200) throw std::runtime_error("control " + path + ": " + std::to_string(r.status) + " " + r.error + r.body);
    return json::parse(r.body);
  }
  static void script(const std::string& provider, const std::string& match, json::array responses) {
    control("POST", "/control/script",
            json::serialize(json::object{{"provider", provider}, {"match", match}, {"responses", std::move(responses)}}));
  }

  sender_config config() {
    sender_config c;
    c.vapid = must(p256_key::generate());
    c.vapid_subject = "mailto:ops@confab.test";
    c.fcm = must(parse_service_account(sa_json_));
    c.fcm_base_url = urls_.fcm;
    c.fcm_token_url = urls_.fcm + "/token";
    c.apns = apns_config{must(p256_key::from_pem(apns_pem_)), "KEYID12345", "TEAMID1234", urls_.apns};
    c.endpoints.allowed_origins = {urls_.webpush};
    c.http = loopback_http();
    return c;
  }

  static send_outcome send_sync(sender& s, const push_target& to, const notification& n,
                                std::string key = "6f2c1e9a-0b4d-4c3e-9f5a-7d8e1b2c3a4f") {
    std::promise<send_outcome> p;
    s.send(to, n, std::move(key), [&](send_outcome o) { p.set_value(std::move(o)); });
    auto f = p.get_future();
    if (f.wait_for(20s) != std::future_status::ready) throw std::runtime_error("send did not complete");
    return f.get();
  }

  webpush_target subscribe(const sender_config& c) {
    const json::value sub = control("POST", "/control/subscription",
                                    json::serialize(json::object{{"applicationServerKey", vapid_public_key(*c.vapid)}}));
    const auto& keys = sub.at("keys");
    return must(parse_webpush(sub.at("endpoint").as_string(), keys.at("p256dh").as_string(), keys.at("auth").as_string(),
                              c.endpoints));
  }

  static notification message() {
    notification n;
    n.conversation_id = 42;
    n.seq = 7;
    n.unread = 3;
    n.preview = "héllo";
    return n;
  }

  static inline fs::path dir_;
  static inline std::string apns_pem_, sa_json_;
  static inline standins_process* proc_ = nullptr;
  static inline urls urls_;
  static inline std::string setup_error_;
};

json::object resp(int status, json::object headers = {}, std::string body = {}) {
  return {{"status", status}, {"headers", std::move(headers)}, {"body", std::move(body)}};
}

// ------------------------------------------------------------------ Web Push

TEST_F(SenderTest, WebPushIsDecryptedByTheStandIn) {
  sender_config c = config();
  const webpush_target t = subscribe(c);
  sender s(std::move(c));
  const send_outcome o = send_sync(s, t, message());
  EXPECT_EQ(o.st, st::sent) << o.detail;
  EXPECT_EQ(o.http_status, 201);
  const json::value got = control("GET", "/control/received");
  ASSERT_EQ(got.at("webpush").as_array().size(), 1u);
  const auto& m = got.at("webpush").at(0);
  EXPECT_EQ(m.at("payload").as_string(), must(webpush_payload(message())));
  EXPECT_EQ(m.at("topic").as_string(), "c42");
  EXPECT_EQ(m.at("urgency").as_string(), "high");
}

TEST_F(SenderTest, WebPushStatusMapping) {
  sender_config c = config();
  const webpush_target t = subscribe(c);
  sender s(std::move(c));
  script("webpush", "", {resp(410), resp(404), resp(429, {{"Retry-After", "1"}}), resp(500), resp(400, {}, "bad request")});
  EXPECT_EQ(send_sync(s, t, message()).st, st::dead_target);
  EXPECT_EQ(send_sync(s, t, message()).st, st::dead_target);
  const send_outcome busy = send_sync(s, t, message());
  EXPECT_EQ(busy.st, st::retry);
  EXPECT_EQ(busy.http_status, 429);
  EXPECT_EQ(busy.retry_after, 1s);
  EXPECT_EQ(send_sync(s, t, message()).st, st::retry);
  const send_outcome bad = send_sync(s, t, message());
  EXPECT_EQ(bad.st, st::rejected);
  EXPECT_EQ(bad.detail, "400 bad request");
}

TEST_F(SenderTest, WebPushEndpointOutsidePolicyIsRejectedWithoutARequest) {
  sender_config c = config();
  const webpush_target t = subscribe(c);
  c.endpoints.allowed_origins.clear();
  sender s(std::move(c));
  const send_outcome o = send_sync(s, t, message());
  EXPECT_EQ(o.st, st::rejected);
  EXPECT_EQ(o.http_status, 0);
  EXPECT_NE(o.detail.find("endpoint"), std::string::npos) << o.detail;
  EXPECT_EQ(control("GET", "/control/received").at("requests").at("webpush").as_int64(), 0);
}

TEST_F(SenderTest, ConnectionRefusedIsRetryWithCurlsText) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // nothing listens on this port now
  const std::string origin = "https://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  sender_config c = config();
  webpush_target t = subscribe(c);
  t.endpoint = origin + "/push/closed";
  c.endpoints.allowed_origins = {origin};
  sender s(std::move(c));
  const send_outcome o = send_sync(s, t, message());
  EXPECT_EQ(o.st, st::retry);
  EXPECT_EQ(o.http_status, 0);
  EXPECT_NE(o.detail.find("onnect"), std::string::npos) << o.detail;
}

TEST_F(SenderTest, LoopbackAddressesAreRefusedUnlessAllowed) {
  sender_config c = config();
  const webpush_target t = subscribe(c);
  c.http.allow_non_public = false;
  sender s(std::move(c));
  const send_outcome o = send_sync(s, t, message());
  EXPECT_EQ(o.st, st::retry);
  EXPECT_NE(o.detail.find("address not allowed: 127.0.0.1 (loopback)"), std::string::npos) << o.detail;
  EXPECT_EQ(control("GET", "/control/received").at("requests").at("webpush").as_int64(), 0);
}

const fcm_target fcm_token{"dHVzdGVk:APA91bStandinToken_1"};

TEST_F(SenderTest, PlainHttpIsRefusedUnlessAllowed) {
  http_client c(loopback_http());
  std::promise<http_response> p;
  c.submit({"GET", urls_.control + "/control/received", {}, {}, {}}, [&](http_response r) { p.set_value(std::move(r)); });
  const http_response r = p.get_future().get();
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.error.find("http"), std::string::npos) << r.error;
}

TEST_F(SenderTest, FcmTokenIsRefetchedShortlyBeforeItExpires) {
  manual_clock clk(real_clock::instance().system_ms());
  sender s(config(), clk);
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::sent);
  clk.advance(3599s - fcm_token_margin - 5s);  // the stand-in's tokens last 3599 s
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::sent);
  EXPECT_EQ(s.fcm_token_requests(), 1u);
  clk.advance(10s);
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::sent);
  EXPECT_EQ(s.fcm_token_requests(), 2u);
}

// ------------------------------------------------------------------ FCM

TEST_F(SenderTest, FcmFetchesATokenAndReusesIt) {
  sender s(config());
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::sent);
  const send_outcome o = send_sync(s, fcm_token, message());
  EXPECT_EQ(o.st, st::sent) << o.detail;
  EXPECT_EQ(s.fcm_token_requests(), 1u);
  const json::value got = control("GET", "/control/received");
  EXPECT_EQ(got.at("requests").at("fcm_token").as_int64(), 1);
  ASSERT_EQ(got.at("fcm").as_array().size(), 2u);
  EXPECT_EQ(got.at("fcm").at(0).at("connection"), got.at("fcm").at(1).at("connection"));  // kept alive
  // HTTP/1.1 although the service offers HTTP/2: when a multiplexed connection broke, libcurl sent
  // again the requests it had no answer for, which FCM (no idempotency key) would deliver twice.
  EXPECT_EQ(got.at("fcm").at(0).at("http_version").as_string(), "1.1");
  const auto& msg = got.at("fcm").at(0).at("message");
  EXPECT_EQ(msg.at("token").as_string(), fcm_token.token);
  EXPECT_EQ(msg.at("data").at("conversation_id").as_string(), "42");
}

TEST_F(SenderTest, FcmConcurrentSendsShareOneTokenRequest) {
  sender s(config());
  std::vector<std::promise<send_outcome>> ps(8);
  for (auto& p : ps) s.send(fcm_token, message(), "k", [&p](send_outcome o) { p.set_value(std::move(o)); });
  for (auto& p : ps) EXPECT_EQ(p.get_future().get().st, st::sent);
  EXPECT_EQ(s.fcm_token_requests(), 1u);
  EXPECT_EQ(control("GET", "/control/received").at("requests").at("fcm_token").as_int64(), 1);
}

TEST_F(SenderTest, Fcm401DropsTheTokenAndTheNextSendFetchesAnother) {
  sender s(config());
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::sent);
  script("fcm", "", {resp(401, {}, R"({"error":{"code":401,"status":"UNAUTHENTICATED","message":"expired"}})")});
  const send_outcome o = send_sync(s, fcm_token, message());
  EXPECT_EQ(o.st, st::retry);
  EXPECT_EQ(o.http_status, 401);
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::sent);
  EXPECT_EQ(s.fcm_token_requests(), 2u);
}

TEST_F(SenderTest, FcmDeadTokens) {
  sender s(config());
  // The stand-in's own answer to a malformed token: 400 INVALID_ARGUMENT naming message.token.
  EXPECT_EQ(send_sync(s, fcm_target{"bad token!"}, message()).st, st::dead_target);
  script("fcm", "", {resp(404, {}, R"({"error":{"code":404,"status":"NOT_FOUND","details":[{"errorCode":"UNREGISTERED"}]}})"),
                     resp(503, {{"Retry-After", "Sun, 06 Nov 2094 08:49:37 GMT"}})});
  EXPECT_EQ(send_sync(s, fcm_token, message()).st, st::dead_target);
  const send_outcome busy = send_sync(s, fcm_token, message());
  EXPECT_EQ(busy.st, st::retry);
  EXPECT_EQ(busy.retry_after, retry_after_max);
}

TEST_F(SenderTest, FcmTokenEndpointRefusalIsRejected) {
  sender_config c = config();
  c.fcm_token_url = urls_.fcm + "/token?wrong-audience";  // the stand-in checks aud against its own URL
  sender s(std::move(c));
  const send_outcome o = send_sync(s, fcm_token, message());
  EXPECT_EQ(o.st, st::rejected) << o.detail;
}

// ------------------------------------------------------------------ APNs

const apns_target apns_device{std::string(64, 'a'), "com.example.chat", apns_environment::production};

TEST_F(SenderTest, ApnsOverHttp2WithTheIdempotencyKeyAsApnsId) {
  sender s(config());
  const std::string id = "00000000-0000-4000-8000-00000000002a";
  const send_outcome o = send_sync(s, apns_device, message(), id);
  EXPECT_EQ(o.st, st::sent) << o.detail;
  const json::value got = control("GET", "/control/received");
  ASSERT_EQ(got.at("apns").as_array().size(), 1u);
  const auto& m = got.at("apns").at(0);
  EXPECT_EQ(m.at("http_version").as_string(), "2.0");
  EXPECT_EQ(m.at("headers").at("apns-id").as_string(), id);
  EXPECT_EQ(m.at("headers").at("apns-push-type").as_string(), "alert");
  EXPECT_EQ(m.at("payload").at("aps").at("badge").as_int64(), 3);
}

TEST_F(SenderTest, ApnsSendsAtOnceShareOneHttp2Connection) {
  sender s(config());
  std::vector<std::promise<send_outcome>> ps(6);
  for (auto& p : ps) s.send(apns_device, message(), "00000000-0000-4000-8000-000000000001", [&p](send_outcome o) { p.set_value(std::move(o)); });
  for (auto& p : ps) EXPECT_EQ(p.get_future().get().st, st::sent);
  EXPECT_EQ(send_sync(s, apns_device, message()).st, st::sent);
  const json::array got = control("GET", "/control/received").at("apns").as_array();
  ASSERT_EQ(got.size(), 7u);
  for (const auto& m : got) EXPECT_EQ(m.at("connection"), got.at(0).at("connection"));
}

TEST_F(SenderTest, ApnsStatusMapping) {
  sender s(config());
  script("apns", "", {resp(410, {}, R"({"reason":"Unregistered"})"), resp(400, {}, R"({"reason":"BadDeviceToken"})"),
                      resp(403, {}, R"({"reason":"ExpiredProviderToken"})"), resp(429, {}, R"({"reason":"TooManyRequests"})")});
  EXPECT_EQ(send_sync(s, apns_device, message()).st, st::dead_target);
  EXPECT_EQ(send_sync(s, apns_device, message()).st, st::dead_target);
  EXPECT_EQ(send_sync(s, apns_device, message()).st, st::retry);
  const send_outcome busy = send_sync(s, apns_device, message());
  EXPECT_EQ(busy.st, st::retry);
  EXPECT_EQ(busy.detail, "429 TooManyRequests");
  // The stand-in's own validation: an apns-id that is not a UUID.
  const send_outcome bad = send_sync(s, apns_device, message(), "not-a-uuid");
  EXPECT_EQ(bad.st, st::rejected);
  EXPECT_EQ(bad.detail, "400 BadMessageId");
}

}  // namespace
}  // namespace confab::push
