#include "e2e/harness.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <libpq-fe.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace e2e {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

// The test process must never die of SIGPIPE (a write to a socket the server closed).
const bool sigpipe_ignored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

const json::value& field(const json::object& o, std::string_view key) {
  auto* f = o.if_contains(key);
  if (!f) fail("missing field '" + std::string(key) + "' in " + dump(o));
  return *f;
}

const json::value& field(const json::value& v, std::string_view key) {
  if (!v.is_object()) fail("expected a JSON object with field '" + std::string(key) + "', got " + dump(v));
  return field(v.as_object(), key);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  auto b = s.find_first_not_of(" \t\r\n");
  auto e = s.find_last_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, e - b + 1);
}

}  // namespace

// --------------------------------------------------------------------------- utilities

std::filesystem::path make_temp_dir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/" + std::string(prefix) + "XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) fail("mkdtemp failed: " + std::string(std::strerror(errno)));
  return std::filesystem::path(buf.data());
}

std::string random_name(std::size_t n) {
  static thread_local std::mt19937_64 rng{std::random_device{}() ^
                                          static_cast<std::uint64_t>(steady::now().time_since_epoch().count())};
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(alphabet) - 2);
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s += alphabet[pick(rng)];
  return s;
}

namespace {

template <class J>
std::int64_t jint_impl(const J& v, std::string_view key) {
  const auto& f = field(v, key);
  if (f.is_int64()) return f.as_int64();
  if (f.is_uint64()) return static_cast<std::int64_t>(f.as_uint64());
  fail("field '" + std::string(key) + "' is not an integer in " + dump(v));
}

template <class J>
std::string jstr_impl(const J& v, std::string_view key) {
  const auto& f = field(v, key);
  if (!f.is_string()) fail("field '" + std::string(key) + "' is not a string in " + dump(v));
  return std::string(f.as_string());
}

template <class J>
const json::object& jobj_impl(const J& v, std::string_view key) {
  const auto& f = field(v, key);
  if (!f.is_object()) fail("field '" + std::string(key) + "' is not an object in " + dump(v));
  return f.as_object();
}

template <class J>
const json::array& jarr_impl(const J& v, std::string_view key) {
  const auto& f = field(v, key);
  if (!f.is_array()) fail("field '" + std::string(key) + "' is not an array in " + dump(v));
  return f.as_array();
}

}  // namespace

std::int64_t jint(const json::object& o, std::string_view key) { return jint_impl(o, key); }
std::string jstr(const json::object& o, std::string_view key) { return jstr_impl(o, key); }
const json::object& jobj(const json::object& o, std::string_view key) { return jobj_impl(o, key); }
const json::array& jarr(const json::object& o, std::string_view key) { return jarr_impl(o, key); }
std::int64_t jint(const json::value& v, std::string_view key) { return jint_impl(v, key); }
std::string jstr(const json::value& v, std::string_view key) { return jstr_impl(v, key); }
const json::object& jobj(const json::value& v, std::string_view key) { return jobj_impl(v, key); }
const json::array& jarr(const json::value& v, std::string_view key) { return jarr_impl(v, key); }

std::string dump(const json::value& v) {
  std::string s = json::serialize(v);
  if (s.size() > 2000) s = s.substr(0, 2000) + "...";
  return s;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

get_result http_get(unsigned short port, const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context ioc;
  boost::beast::tcp_stream s(ioc);
  s.expires_after(default_timeout);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req);
  boost::beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return {res.result_int(), std::string(res[http::field::content_type]), res.body()};
}

std::optional<double> metric_sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ')
      return std::stod(line.substr(series.size() + 1));
  return std::nullopt;
}

std::string tail_file(const std::filesystem::path& p, std::size_t n) {
  std::ifstream f(p);
  if (!f) return {};
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(f, line)) {
    lines.push_back(std::move(line));
    if (lines.size() > n) lines.pop_front();
  }
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}


// --------------------------------------------------------------------------- PostgreSQL

namespace {

std::string quote_conninfo(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// The DSN with dbname (and a connect timeout, so no connection attempt can hang) replaced.
std::string with_dbname(const std::string& dsn, const std::string& db) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
  if (!opts) {
    std::string msg = err ? err : "unknown error";
    if (err) PQfreemem(err);
    fail("cannot parse the PostgreSQL DSN '" + dsn + "': " + msg);
  }
  std::string out;
  for (auto* o = opts; o->keyword; ++o) {
    std::string key = o->keyword;
    if (key == "dbname" || key == "connect_timeout" || !o->val) continue;
    out += key + "=" + quote_conninfo(o->val) + " ";
  }
  PQconninfoFree(opts);
  return out + "connect_timeout=10 dbname=" + quote_conninfo(db);
}

void pg_exec(const std::string& dsn, const std::string& sql) {
  PGconn* c = PQconnectdb(dsn.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(c);
    PQfinish(c);
    fail("cannot connect to the test PostgreSQL server (" + dsn + "): " + msg);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string msg = ok ? "" : PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) fail("PostgreSQL: " + sql + ": " + msg);
}

}  // namespace

void pg_database::exec(const std::string& sql) const { pg_exec(dsn_, sql); }

void sqlite_exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    fail("cannot open " + path.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) fail("SQLite: " + sql + ": " + msg);
}

pg_database::pg_database() {
  const char* file = std::getenv("CONFAB_TEST_PG_DSN_FILE");
  if (!file || !*file)
    fail("CONFAB_TEST_PG_DSN_FILE is not set: the postgres e2e cases need the ctest fixture 'pg' "
         "(run them with ctest, e.g. ctest -L e2e), or set the variable to a file holding a libpq DSN");
  std::string dsn = trim(read_file(file));
  if (dsn.empty())
    fail(std::string("CONFAB_TEST_PG_DSN_FILE names '") + file +
         "', which is missing or empty: did the pg_server_start fixture (scripts/pg-test-server.sh) fail?");
  admin_dsn_ = with_dbname(dsn, "postgres");
  name_ = "e2e_" + random_name(12);
  pg_exec(admin_dsn_, "CREATE DATABASE " + name_);
  dsn_ = with_dbname(dsn, name_);
}

pg_database::~pg_database() {
  try {
    pg_exec(admin_dsn_, "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception&) {
    // Best effort: the fixture's server (and every database on it) is thrown away afterwards.
  }
}

// --------------------------------------------------------------------------- confabd process

server_process::server_process(std::filesystem::path dir) : dir_(std::move(dir)) {}

server_process::~server_process() { stop(); }

pid_t spawn(const std::vector<std::string>& args, const std::filesystem::path& log) {
  std::vector<std::string> argv_s = args;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The child's environment without CONFAB_* (confabd reads options from those).
  std::vector<char*> envp;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "CONFAB_", 7) != 0) envp.push_back(*e);
  envp.push_back(nullptr);

  // fork + exec (not posix_spawn) so the child can ask for SIGKILL when the test process dies:
  // a crashed or timed-out test binary must not leave servers behind. Between fork and exec the
  // child only makes async-signal-safe calls on data prepared here.
  const std::string log_str = log.string();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) fail("fork failed: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(log_str.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || out < 0) ::_exit(125);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    // Do not leak the test's client sockets into the server: a child holding a copy of a
    // client's socket would keep that connection open after the test closed it.
    if (::close_range(3, ~0U, 0) != 0)
      for (int fd = 3; fd < 4096; ++fd) ::close(fd);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGPIPE, SIGTERM, SIGINT}) ::signal(sig, SIG_DFL);
    ::execvpe(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

bool wait_tcp(unsigned short port, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket sock(ioc);
    boost::system::error_code ec;
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    if (!ec) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

child_process::~child_process() { stop(); }

void child_process::start(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  if (pid_ > 0) fail("child_process::start: already running");
  log_ = log;
  pid_ = spawn(argv, log);
}

bool child_process::running() { return pid_ > 0 && !wait_exit(0ms); }

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = steady::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return status;
    }
    if (steady::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
}

int child_process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  if (auto st = wait_exit(grace)) return *st;
  ::kill(pid_, SIGKILL);
  if (auto st = wait_exit(5s)) return *st;
  pid_ = -1;  // unreapable within 5 s: give up on it rather than hang
  return -1;
}

void child_process::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  if (!wait_exit(5s)) pid_ = -1;
}

void server_process::start(const std::vector<std::string>& args) {
  if (proc_.pid() > 0) fail("server_process::start: already running");
  ++starts_;
  const auto port_file = dir_ / ("port." + std::to_string(starts_));
  log_ = dir_ / ("confabd." + std::to_string(starts_) + ".log");
  std::filesystem::remove(port_file);

  std::vector<std::string> argv_s{CONFAB_BINARY, "--listen", "127.0.0.1:0", "--port-file", port_file.string()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  proc_.start(argv_s, log_);

  const auto deadline = steady::now() + 10s;
  for (;;) {
    if (auto status = proc_.wait_exit(0ms))
      fail("confabd exited during start-up (status " + std::to_string(*status) + "); log:\n" + tail_file(log_, 40));
    std::error_code ec;
    if (std::filesystem::exists(port_file, ec)) {
      auto text = trim(read_file(port_file));
      if (!text.empty()) {
        port_ = static_cast<unsigned short>(std::stoi(text));
        return;
      }
    }
    if (steady::now() > deadline) {
      kill9();
      fail("confabd did not write its port file within 10 s; log:\n" + tail_file(log_, 40));
    }
    std::this_thread::sleep_for(10ms);
  }
}

// --------------------------------------------------------------------------- HTTP client

std::string http_response::error_code() const {
  if (!json.is_object()) return {};
  auto* e = json.as_object().if_contains("error");
  if (!e || !e->is_object()) return {};
  auto* c = e->as_object().if_contains("code");
  return c && c->is_string() ? std::string(c->as_string()) : std::string{};
}

namespace {

// (Reference parameters only: they outlive the coroutine, which runs inside post_raw.)
asio::awaitable<void> do_http(beast::tcp_stream& stream, unsigned short port, http::request<http::string_body>& req,
                              http::response<http::string_body>& res, std::chrono::milliseconds timeout) {
  constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
  stream.expires_after(timeout);
  auto [cec] = co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), tuple);
  if (cec) fail("HTTP connect failed: " + cec.message());
  stream.socket().set_option(tcp::no_delay(true));  // no Nagle/delayed-ACK stalls on large bodies
  stream.expires_after(timeout);
  auto [wec, wn] = co_await http::async_write(stream, req, tuple);
  // A server may answer and close before reading the whole body (413): still read the answer.
  (void)wn;
  stream.expires_after(timeout);
  beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  auto [rec, rn] = co_await http::async_read(stream, buf, parser, tuple);
  if (rec) fail("HTTP read failed: " + rec.message() + (wec ? " (write: " + wec.message() + ")" : ""));
  res = parser.release();
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace

http_response http_client::post_raw(std::string_view target, std::string body, std::string_view token,
                                    std::chrono::milliseconds timeout) const {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
  req.set(http::field::content_type, "application/json");
  req.keep_alive(false);
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + std::string(token));
  req.body() = std::move(body);
  req.prepare_payload();
  http::response<http::string_body> res;
  std::exception_ptr err;
  bool done = false;
  asio::co_spawn(ioc, do_http(stream, port_, req, res, timeout), [&](std::exception_ptr e) {
    err = e;
    done = true;
  });
  ioc.run_for(timeout * 4);  // the per-operation timeouts end it first
  if (!done) fail("HTTP request to " + std::string(target) + " did not finish");
  if (err) std::rethrow_exception(err);
  http_response out;
  out.status = res.result_int();
  out.body = res.body();
  if (auto it = res.find(http::field::www_authenticate); it != res.end()) out.www_authenticate = std::string(it->value());
  boost::system::error_code ec;
  out.json = json::parse(out.body, ec);
  if (ec) out.json = nullptr;
  return out;
}

http_response http_client::post(std::string_view op, const json::object& body, std::string_view token) const {
  return post_raw("/v1/" + std::string(op), json::serialize(body), token);
}

json::value http_client::call(std::string_view op, const json::object& body, std::string_view token) const {
  auto r = post(op, body, token);
  if (r.status != 200) fail("HTTP " + std::string(op) + " failed with " + std::to_string(r.status) + ": " + r.body);
  return r.json;
}

namespace {
account to_account(const json::value& v) {
  return account{jint(v, "user_id"), jint(v, "device_id"), jstr(v, "username"), jstr(v, "token")};
}
}  // namespace

account register_user(const http_client& http, const std::string& username, const std::string& device) {
  return to_account(
      http.call("register", {{"username", username}, {"password", test_password}, {"device_name", device}}));
}

account login(const http_client& http, const std::string& username, const std::string& device) {
  return to_account(http.call("login", {{"username", username}, {"password", test_password}, {"device_name", device}}));
}

// --------------------------------------------------------------------------- WebSocket client

ws_client::ws_client(unsigned short port) : ws_client(port, options{}) {}

ws_client::ws_client(unsigned short port, const options& opts)
    : ws_(ioc_), buf_(std::make_shared<beast::flat_buffer>()) {
  auto& stream = beast::get_lowest_layer(ws_);
  if (opts.receive_buffer > 0) {
    stream.socket().open(tcp::v4());
    stream.socket().set_option(asio::socket_base::receive_buffer_size(opts.receive_buffer));
  }
  auto state = std::make_shared<std::pair<bool, beast::error_code>>(false, beast::error_code{});
  const auto deadline = steady::now() + opts.timeout;
  stream.expires_after(opts.timeout);
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), [state](beast::error_code ec) {
    *state = {true, ec};
  });
  pump([&] { return state->first; }, deadline);
  if (!state->first || state->second)
    fail("WebSocket connect failed: " + (state->first ? state->second.message() : std::string("timeout")));
  stream.socket().set_option(tcp::no_delay(true));  // no Nagle/delayed-ACK stalls on large frames
  *state = {false, {}};
  stream.expires_after(opts.timeout);
  if (!opts.headers.empty())
    ws_.set_option(websocket::stream_base::decorator([h = opts.headers](websocket::request_type& req) {
      for (const auto& [name, value] : h) req.insert(name, value);
    }));
  ws_.async_handshake("127.0.0.1:" + std::to_string(port), opts.target, [state](beast::error_code ec) {
    *state = {true, ec};
  });
  pump([&] { return state->first; }, deadline);
  if (!state->first || state->second)
    fail("WebSocket upgrade failed: " + (state->first ? state->second.message() : std::string("timeout")));
  stream.expires_never();
}

ws_client::~ws_client() {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().close(ec);
  beast::get_lowest_layer(ws_).cancel();
  // Let the aborted operations' handlers run while this object is still alive.
  ioc_.restart();
  ioc_.run_for(2s);
}

void ws_client::start_read() {
  if (reading_ || closed_) return;
  reading_ = true;
  ws_.async_read(*buf_, [this, buf = buf_](beast::error_code ec, std::size_t) {
    reading_ = false;
    if (ec) {
      closed_ = true;
      if (ec == websocket::error::closed) {
        close_code_ = ws_.reason().code;
        close_reason_ = std::string(ws_.reason().reason.c_str());
      } else {
        close_code_ = 0;
        close_reason_ = ec.message();
      }
      return;
    }
    std::string text = beast::buffers_to_string(buf->data());
    buf->consume(buf->size());
    boost::system::error_code pec;
    auto v = json::parse(text, pec);
    if (pec || !v.is_object())
      frames_.push_back(json::object{{"type", "_unparsable"}, {"raw", text}});
    else
      frames_.push_back(std::move(v.as_object()));
  });
}

bool ws_client::pump(const std::function<bool()>& pred, steady::time_point deadline) {
  for (;;) {
    if (pred()) return true;
    if (steady::now() >= deadline) return false;
    ioc_.restart();
    std::size_t n = ioc_.run_one_until(deadline);
    // Out of work: nothing pending can change the outcome any more.
    if (n == 0 && ioc_.stopped()) return pred();
  }
}

void ws_client::write(std::string_view data, bool text) {
  if (closed_) fail("WebSocket write on a closed connection (close code " + std::to_string(close_code_) + ")");
  auto state = std::make_shared<std::pair<bool, beast::error_code>>(false, beast::error_code{});
  auto payload = std::make_shared<std::string>(data);
  ws_.text(text);
  ws_.async_write(asio::buffer(*payload), [state, payload](beast::error_code ec, std::size_t) { *state = {true, ec}; });
  if (!pump([&] { return state->first; }, steady::now() + default_timeout))
    fail("WebSocket write did not complete within 10 s");
  if (state->second) fail("WebSocket write failed: " + state->second.message());
}

void ws_client::send_text(std::string_view text) { write(text, true); }
void ws_client::send_binary(std::string_view bytes) { write(bytes, false); }
void ws_client::send(const json::object& frame) { write(json::serialize(frame), true); }

std::int64_t ws_client::send_op(std::string_view op, json::object fields) {
  const std::int64_t id = next_id_++;
  json::object o;
  o["op"] = op;
  o["id"] = id;
  for (auto& kv : fields) o[kv.key()] = kv.value();
  send(o);
  return id;
}

std::optional<json::object> ws_client::reply(std::int64_t id, std::chrono::milliseconds timeout) {
  auto match = [&](const json::object& f) {
    auto* t = f.if_contains("type");
    auto* i = f.if_contains("id");
    if (!t || !i || !t->is_string() || !i->is_int64() || i->as_int64() != id) return false;
    return t->as_string() == "result" || t->as_string() == "error";
  };
  auto find = [&] {
    for (auto it = frames_.begin(); it != frames_.end(); ++it)
      if (match(*it)) return it;
    return frames_.end();
  };
  const auto deadline = steady::now() + timeout;
  pump(
      [&] {
        if (find() != frames_.end()) return true;
        if (closed_) return true;
        start_read();
        return false;
      },
      deadline);
  auto it = find();
  if (it == frames_.end()) return std::nullopt;
  json::object out = std::move(*it);
  frames_.erase(it);
  return out;
}

json::object ws_client::call(std::string_view op, json::object fields, std::chrono::milliseconds timeout) {
  const auto id = send_op(op, std::move(fields));
  auto r = reply(id, timeout);
  if (!r)
    fail("no reply to '" + std::string(op) + "' " +
         (closed_ ? "(connection closed, code " + std::to_string(close_code_) + " " + close_reason_ + ")"
                  : "within the timeout"));
  return std::move(*r);
}

json::object ws_client::call_ok(std::string_view op, json::object fields, std::chrono::milliseconds timeout) {
  auto r = call(op, std::move(fields), timeout);
  if (jstr(r, "type") != "result") fail("'" + std::string(op) + "' failed: " + dump(r));
  return jobj(r, "data");
}

json::object ws_client::hello(std::string_view token, std::optional<std::int64_t> since) {
  json::object f{{"token", token}};
  if (since) f["since"] = *since;
  return call_ok("hello", std::move(f));
}

std::size_t ws_client::count_pending(std::string_view type) const {
  std::size_t n = 0;
  for (auto& f : frames_) {
    auto* t = f.if_contains("type");
    if (t && t->is_string() && t->as_string() == type) ++n;
  }
  return n;
}

std::optional<json::object> ws_client::next(std::string_view type, std::chrono::milliseconds timeout) {
  auto find = [&] {
    for (auto it = frames_.begin(); it != frames_.end(); ++it) {
      if (type.empty()) return it;
      auto* t = it->if_contains("type");
      if (t && t->is_string() && t->as_string() == type) return it;
    }
    return frames_.end();
  };
  pump(
      [&] {
        if (find() != frames_.end() || closed_) return true;
        start_read();
        return false;
      },
      steady::now() + timeout);
  auto it = find();
  if (it == frames_.end()) return std::nullopt;
  json::object out = std::move(*it);
  frames_.erase(it);
  return out;
}

json::object ws_client::next_event(std::chrono::milliseconds timeout) {
  auto e = next("event", timeout);
  if (!e)
    fail(closed_ ? "connection closed (code " + std::to_string(close_code_) + " " + close_reason_ + ") while waiting for an event"
                 : "no event within the timeout");
  return std::move(*e);
}

std::vector<json::object> ws_client::events(std::size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = steady::now() + timeout;
  std::vector<json::object> out;
  while (out.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    auto e = next("event", std::max(left, std::chrono::milliseconds(0)));
    if (!e)
      fail("got " + std::to_string(out.size()) + " of " + std::to_string(n) + " events" +
           (closed_ ? " (connection closed, code " + std::to_string(close_code_) + ")" : " within the timeout"));
    out.push_back(std::move(*e));
  }
  return out;
}

std::vector<json::object> ws_client::drain_events(std::chrono::milliseconds duration) {
  pump(
      [&] {
        if (closed_) return true;
        start_read();
        return false;
      },
      steady::now() + duration);
  std::vector<json::object> out;
  for (auto it = frames_.begin(); it != frames_.end();) {
    auto* t = it->if_contains("type");
    if (t && t->is_string() && t->as_string() == "event") {
      out.push_back(std::move(*it));
      it = frames_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<json::object> ws_client::until_synced(std::int64_t* synced_pos, std::chrono::milliseconds timeout) {
  auto has_synced = [&] {
    for (auto& f : frames_) {
      auto* t = f.if_contains("type");
      if (t && t->is_string() && t->as_string() == "synced") return true;
    }
    return false;
  };
  pump(
      [&] {
        if (has_synced() || closed_) return true;
        start_read();
        return false;
      },
      steady::now() + timeout);
  if (!has_synced())
    fail(closed_ ? "connection closed (code " + std::to_string(close_code_) + ") before the synced frame"
                 : "no synced frame within the timeout");
  std::vector<json::object> out;
  for (auto it = frames_.begin(); it != frames_.end();) {
    auto t = jstr(*it, "type");
    if (t == "event") {
      out.push_back(std::move(*it));
      it = frames_.erase(it);
    } else if (t == "synced") {
      if (synced_pos) *synced_pos = jint(*it, "pos");
      frames_.erase(it);
      break;
    } else {
      ++it;
    }
  }
  return out;
}

std::optional<int> ws_client::wait_close(std::chrono::milliseconds timeout) {
  pump(
      [&] {
        if (closed_) return true;
        start_read();
        return false;
      },
      steady::now() + timeout);
  if (!closed_) return std::nullopt;
  return close_code_;
}

void ws_client::close() {
  if (!closed_) {
    auto done = std::make_shared<bool>(false);
    ws_.async_close(websocket::close_code::normal, [done](beast::error_code) { *done = true; });
    pump([&] { return *done; }, steady::now() + 5s);
    closed_ = true;
    if (close_code_ < 0) close_code_ = 1000;
  }
  abort();
}

void ws_client::abort() {
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
  beast::get_lowest_layer(ws_).socket().close(ec);
  ioc_.restart();
  ioc_.run_for(1s);
  closed_ = true;
  if (close_code_ < 0) close_code_ = 0;
}

// --------------------------------------------------------------------------- Redis

redis_server::redis_server(const std::filesystem::path& dir) : dir_(dir), port_(free_port()) {
  const auto log = dir / ("redis-" + std::to_string(port_) + ".log");
  proc_.start({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
               "--dir", dir.string(), "--protected-mode", "no"},
              log);
  if (!wait_tcp(port_)) fail("redis-server did not start; log:\n" + tail_file(log, 20));
}

std::string redis_server::cli(const std::vector<std::string>& args) const {
  const auto out = dir_ / ("redis-cli-" + random_name(8) + ".out");
  std::vector<std::string> argv{"redis-cli", "-p", std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  child_process c;
  c.start(argv, out);
  if (!c.wait_exit(10s)) fail("redis-cli did not finish within 10 s");
  auto text = read_file(out);
  std::filesystem::remove(out);
  return text;
}

}  // namespace e2e
