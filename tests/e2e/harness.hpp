// End-to-end test harness: runs the real confabd as a child process and talks to it over real
// sockets (HTTP API and WebSocket) with small synchronous clients built on Boost.Beast.
//
// Every wait is bounded: network operations time out (10 s unless told otherwise), waiting for
// the port file times out, and stopping a child escalates from SIGTERM to SIGKILL after 5 s.
// Helpers throw std::runtime_error on protocol surprises (an error where a result was expected,
// a timeout); GoogleTest reports an exception thrown in a test body as a failure with its message.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace e2e {

namespace json = boost::json;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline constexpr std::chrono::milliseconds default_timeout = 10s;

// --------------------------------------------------------------------------- small utilities

// A fresh, empty temporary folder (mkdtemp under $TMPDIR or /tmp).
std::filesystem::path make_temp_dir(std::string_view prefix);
// A random lower-case alphanumeric string of n characters.
std::string random_name(std::size_t n);
// Field access that throws with a readable message when absent or of the wrong type. (Overloads
// for object and value: an object passed as a value would be copied into a temporary, and the
// returned references would dangle.)
std::int64_t jint(const json::object& o, std::string_view key);
std::string jstr(const json::object& o, std::string_view key);
const json::object& jobj(const json::object& o, std::string_view key);
const json::array& jarr(const json::object& o, std::string_view key);
std::int64_t jint(const json::value& v, std::string_view key);
std::string jstr(const json::value& v, std::string_view key);
const json::object& jobj(const json::value& v, std::string_view key);
const json::array& jarr(const json::value& v, std::string_view key);
std::string dump(const json::value& v);
// The last n lines of a file ("" if unreadable).
std::string tail_file(const std::filesystem::path& p, std::size_t n);
// Polls pred every 20 ms until it holds (true) or timeout passes (pred's last answer).
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(30));

// GET target from 127.0.0.1:port (one connection, bounded by default_timeout).
struct get_result {
  unsigned status = 0;
  std::string content_type;
  std::string body;
};
get_result http_get(unsigned short port, const std::string& target);
// In Prometheus text, the value of the sample whose name and labels are exactly series (e.g.
// confab_operations_total{op="send",result="ok"}), or nullopt.
std::optional<double> metric_sample(const std::string& text, const std::string& series);

// --------------------------------------------------------------------------- PostgreSQL

// A throwaway database on the test PostgreSQL server: CREATE DATABASE e2e_<random> over the DSN
// read from the file named by CONFAB_TEST_PG_DSN_FILE, DROP DATABASE on destruction.
// Runs sql (no result rows) on the SQLite database at path, or fails the test.
void sqlite_exec(const std::filesystem::path& path, const std::string& sql);

class pg_database {
 public:
  // Throws with a clear message when the variable, the file or the server is missing.
  pg_database();
  ~pg_database();
  pg_database(const pg_database&) = delete;
  pg_database& operator=(const pg_database&) = delete;

  const std::string& dsn() const { return dsn_; }  // libpq DSN of the new database
  void exec(const std::string& sql) const;         // runs sql (no result rows) or fails the test
  const std::string& name() const { return name_; }

 private:
  std::string admin_dsn_;
  std::string dsn_;
  std::string name_;
};

// --------------------------------------------------------------------------- child processes

// fork + exec argv (argv[0] looked up in PATH) with stdout and stderr appended to log and stdin
// from /dev/null; the child is SIGKILLed if the calling thread exits. Returns its pid.
pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log);
// A loopback port that was free a moment ago.
unsigned short free_port();
// Waits until 127.0.0.1:port accepts a TCP connection.
bool wait_tcp(unsigned short port, std::chrono::milliseconds timeout = default_timeout);

// A child process (confabd, redis-server, haproxy): started by start(), stopped by stop() or the
// destructor.
class child_process {
 public:
  child_process() = default;
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  void start(const std::vector<std::string>& argv, const std::filesystem::path& log);
  bool running();
  // SIGTERM; SIGKILL if the child has not exited after grace. Returns the waitpid status
  // (-1 if no child was running).
  int stop(std::chrono::milliseconds grace = 5s);
  // SIGKILL and reap.
  void kill9();
  // Waits (bounded) for the child to exit on its own; returns the waitpid status or nullopt.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  pid_t pid() const { return pid_; }
  const std::filesystem::path& log_path() const { return log_; }

 private:
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// --------------------------------------------------------------------------- confabd process

class server_process {
 public:
  // dir: where the port file and the logs go.
  explicit server_process(std::filesystem::path dir);
  ~server_process();  // stop(): SIGTERM, then SIGKILL after 5 s
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  // Starts CONFAB_BINARY with --listen 127.0.0.1:0 --port-file ... plus args and waits (10 s)
  // until the port file appears. Throws (with the log tail) if the child dies or never listens.
  // stdout and stderr go to log_path(). The child is SIGKILLed if the calling thread exits (it
  // asks for PR_SET_PDEATHSIG), so a crashed test leaves no server behind: start from the main
  // test thread.
  void start(const std::vector<std::string>& args);
  unsigned short port() const { return port_; }
  pid_t pid() const { return proc_.pid(); }
  bool running() { return proc_.running(); }
  int stop(std::chrono::milliseconds grace = 5s) { return proc_.stop(grace); }  // see child_process
  void kill9() { proc_.kill9(); }
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) { return proc_.wait_exit(timeout); }
  const std::filesystem::path& log_path() const { return log_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path log_;
  child_process proc_;
  unsigned short port_ = 0;
  int starts_ = 0;
};

// --------------------------------------------------------------------------- HTTP client

struct http_response {
  unsigned status = 0;
  std::string body;
  json::value json;  // the parsed body (null if not JSON)
  std::string www_authenticate;
  // The error code of an error body ({"error":{"code":...}}), "" if none.
  std::string error_code() const;
};

class http_client {
 public:
  explicit http_client(unsigned short port) : port_(port) {}
  // POST target with a raw body (one connection per request).
  http_response post_raw(std::string_view target, std::string body, std::string_view token = {},
                         std::chrono::milliseconds timeout = default_timeout) const;
  // POST /v1/<op> with a JSON body.
  http_response post(std::string_view op, const json::object& body = {}, std::string_view token = {}) const;
  // POST /v1/<op>, throwing unless the status is 200; returns the JSON body.
  json::value call(std::string_view op, const json::object& body = {}, std::string_view token = {}) const;

 private:
  unsigned short port_;
};

struct account {
  std::int64_t user_id = 0;
  std::int64_t device_id = 0;
  std::string username;
  std::string token;
};

inline const std::string test_password = "correct horse battery";
account register_user(const http_client& http, const std::string& username, const std::string& device = "dev");
account login(const http_client& http, const std::string& username, const std::string& device = "dev2");

// --------------------------------------------------------------------------- WebSocket client

// A synchronous WebSocket client on its own io_context. Reads are non-destructive with timeouts:
// a read that has not completed when a wait times out stays pending and is resumed by the next
// wait, so "expect nothing for 500 ms" does not disturb the connection. Frames received while
// waiting for something else are kept, in order, for later calls.
// Not thread-safe: one thread per client (different clients may be used from different threads).
class ws_client {
 public:
  struct options {
    std::chrono::milliseconds timeout = default_timeout;  // connect + upgrade
    int receive_buffer = 0;  // SO_RCVBUF before connecting (0 = system default)
    std::string target = "/v1/ws";
    std::vector<std::pair<std::string, std::string>> headers;  // added to the upgrade request, in order
  };
  explicit ws_client(unsigned short port);
  ws_client(unsigned short port, const options& opts);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  // --- sending (each bounded by 10 s)
  void send_text(std::string_view text);
  void send_binary(std::string_view bytes);
  void send(const json::object& frame);
  // Sends {"op":op,"id":<next id>,...fields} and returns the id used.
  std::int64_t send_op(std::string_view op, json::object fields = {});

  // --- receiving
  // Waits for the reply (result or error frame) with this id; nullopt on timeout/close.
  std::optional<json::object> reply(std::int64_t id, std::chrono::milliseconds timeout = default_timeout);
  // send_op + reply; throws on timeout or close.
  json::object call(std::string_view op, json::object fields = {}, std::chrono::milliseconds timeout = default_timeout);
  // call, throwing unless the reply is a result; returns its "data".
  json::object call_ok(std::string_view op, json::object fields = {}, std::chrono::milliseconds timeout = default_timeout);
  // hello with token (and since, if given); returns the result data; throws on error.
  json::object hello(std::string_view token, std::optional<std::int64_t> since = std::nullopt);
  // Removes and returns the first frame of this type ("event", "synced", "error", "result", or
  // "" for any frame), waiting up to timeout.
  std::optional<json::object> next(std::string_view type = "", std::chrono::milliseconds timeout = default_timeout);
  // next("event"), throwing on timeout.
  json::object next_event(std::chrono::milliseconds timeout = default_timeout);
  // Collects n events (throws if they do not arrive within timeout overall).
  std::vector<json::object> events(std::size_t n, std::chrono::milliseconds timeout = default_timeout);
  // Reads for the whole duration and returns every event frame that arrived (removing them).
  std::vector<json::object> drain_events(std::chrono::milliseconds duration);
  // Reads until the synced frame arrives; returns the events before it (removing them) and sets
  // *synced_pos.
  std::vector<json::object> until_synced(std::int64_t* synced_pos = nullptr,
                                         std::chrono::milliseconds timeout = default_timeout);
  // Reads (keeping frames) until the connection closes. Returns the close code received from
  // the server, 0 for a close without a close frame (EOF/reset), nullopt on timeout.
  std::optional<int> wait_close(std::chrono::milliseconds timeout = default_timeout);
  // Frames received and not yet taken.
  std::size_t pending_frames() const { return frames_.size(); }
  std::size_t count_pending(std::string_view type) const;

  bool closed() const { return closed_; }
  int close_code() const { return close_code_; }
  std::string close_reason() const { return close_reason_; }
  // Graceful close (1000), bounded; then the socket is closed.
  void close();
  // Drops the TCP connection without a close handshake.
  void abort();

 private:
  void start_read();
  // Runs the io_context until pred() or the deadline; returns pred().
  bool pump(const std::function<bool()>& pred, steady::time_point deadline);
  void write(std::string_view data, bool text);

  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  std::shared_ptr<boost::beast::flat_buffer> buf_;
  std::deque<json::object> frames_;
  bool reading_ = false;
  bool closed_ = false;
  int close_code_ = -1;
  std::string close_reason_;
  std::int64_t next_id_ = 1;
};

// --------------------------------------------------------------------------- Redis

// A standalone redis-server on a free loopback port, without persistence; stopped on destruction.
// Throws (with its log tail) if it does not accept connections within 10 s.
class redis_server {
 public:
  explicit redis_server(const std::filesystem::path& dir);
  unsigned short port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Runs redis-cli with args against this server (bounded: 10 s) and returns its output.
  std::string cli(const std::vector<std::string>& args) const;

 private:
  std::filesystem::path dir_;
  child_process proc_;
  unsigned short port_ = 0;
};

}  // namespace e2e
