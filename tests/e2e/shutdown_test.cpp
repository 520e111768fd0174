// Graceful shutdown: a request that confabd accepted before SIGTERM gets its complete response,
// and the process then exits 0. The request is held deterministically: the test locks the users
// table (SHARE mode blocks the INSERT of a register, not reads) on the PostgreSQL database, waits
// until confabd's writer waits for that lock, sends SIGTERM, and only then releases the lock.
#include "e2e/harness.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>

#include <libpq-fe.h>
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace e2e {
namespace {

// One libpq connection, for holding a lock and looking at pg_locks.
class pg_session {
 public:
  explicit pg_session(const std::string& dsn) : c_(PQconnectdb(dsn.c_str())) {
    if (PQstatus(c_) != CONNECTION_OK) throw std::runtime_error(std::string("PostgreSQL: ") + PQerrorMessage(c_));
  }
  ~pg_session() { PQfinish(c_); }
  pg_session(const pg_session&) = delete;
  pg_session& operator=(const pg_session&) = delete;
  // Runs sql; returns the first cell of the first row ("" if none). Throws on error.
  std::string exec(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      std::string msg = PQerrorMessage(c_);
      PQclear(r);
      throw std::runtime_error("PostgreSQL: " + sql + ": " + msg);
    }
    std::string v = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    return v;
  }

 private:
  PGconn* c_;
};

std::string read_all(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Polls (bounded) until pred() holds.
const std::string held_body = R"({"username":"held","password":")" + test_password + R"("})";

// A register that confabd has read and is executing, held by a lock on the users table until
// release(). Its response lands in reply (or its transport failure in failure).
class held_register {
 public:
  held_register(const std::string& dsn, const http_client& http) : lock_(dsn), watch_(dsn) {
    lock_.exec("BEGIN");
    lock_.exec("LOCK TABLE users IN SHARE MODE");
    client_ = std::thread([this, &http] {
      try {
        reply = http.post_raw("/v1/register", held_body, {}, 120s);
      } catch (const std::exception& e) {
        failure = e.what();
      }
    });
    // Bounded: throws unless confabd's writer waits for the lock within 20 s.
    if (!eventually([&] { return watch_.exec("SELECT count(*) FROM pg_locks WHERE NOT granted") != "0"; })) {
      release();
      throw std::runtime_error("confabd's register never waited for the users table lock");
    }
  }
  ~held_register() { release(); }
  void release() {
    if (released_) return;
    released_ = true;
    lock_.exec("COMMIT");
    client_.join();
  }

  http_response reply;
  std::string failure;

 private:
  pg_session lock_;
  pg_session watch_;
  std::thread client_;
  bool released_ = false;
};

const std::vector<std::string> fast_hashing = {"--argon2-ops", "1", "--argon2-mem-kib", "8"};

std::vector<std::string> pg_args(const pg_database& db) {
  // A long grace: the test, not the deadline, decides when the held request may finish.
  std::vector<std::string> args = {"--storage", "postgres", "--pg-dsn", db.dsn(), "--shutdown-grace-ms", "120000"};
  args.insert(args.end(), fast_hashing.begin(), fast_hashing.end());
  return args;
}

// SIGTERM, then waits (bounded) until confabd says its shutdown waits for the one held request.
void sigterm_and_wait_for_shutdown(server_process& srv) {
  ASSERT_EQ(::kill(srv.pid(), SIGTERM), 0);
  ASSERT_TRUE(eventually([&] {
    auto log = read_all(srv.log_path());
    auto at = log.find("shutdown: waiting for requests in progress");
    return at != std::string::npos && log.find("\"requests\":1", at) != std::string::npos;
  })) << "confabd's shutdown did not wait for the request in progress:\n"
      << tail_file(srv.log_path(), 20);
}

void expect_exit_zero(server_process& srv) {
  auto status = srv.wait_exit(30s);
  ASSERT_TRUE(status.has_value()) << "confabd did not exit after answering";
  EXPECT_TRUE(WIFEXITED(*status)) << "status " << *status;
  EXPECT_EQ(WEXITSTATUS(*status), 0) << tail_file(srv.log_path(), 20);
}

TEST(Shutdown, RequestInProgressAtSigtermGetsItsResponseAndTheProcessExitsZero) {
  auto dir = make_temp_dir("confab-shutdown-");
  pg_database db;
  server_process srv(dir);
  srv.start(pg_args(db));
  http_client http(srv.port());
  register_user(http, "early");  // the schema is in place and the server answers

  held_register held(db.dsn(), http);
  sigterm_and_wait_for_shutdown(srv);
  // Shutdown has begun and the request is still held: the process must still be there.
  EXPECT_TRUE(srv.running()) << "confabd exited with a request in progress:\n" << tail_file(srv.log_path(), 20);
  held.release();

  ASSERT_EQ(held.failure, "") << tail_file(srv.log_path(), 20);
  EXPECT_EQ(held.reply.status, 200u) << held.reply.body;
  EXPECT_EQ(jstr(held.reply.json, "username"), "held") << held.reply.body;
  EXPECT_FALSE(jstr(held.reply.json, "token").empty());
  expect_exit_zero(srv);

  // The answered register is durable.
  srv.start(pg_args(db));
  http_client again(srv.port());
  EXPECT_FALSE(login(again, "held").token.empty());
  srv.stop();
  std::error_code ec;
  if (!HasFailure()) std::filesystem::remove_all(dir, ec);
}

// After SIGTERM, a request read on an already open keep-alive connection is refused with 503
// unavailable and the connection is closed, rather than left unanswered.
TEST(Shutdown, RequestReadAfterSigtermIsRefusedWith503) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  auto dir = make_temp_dir("confab-shutdown-");
  pg_database db;
  server_process srv(dir);
  srv.start(pg_args(db));
  http_client client(srv.port());
  register_user(client, "early");

  boost::asio::io_context ioc;
  beast::tcp_stream keep_alive(ioc);
  keep_alive.expires_after(10s);
  keep_alive.connect({boost::asio::ip::make_address("127.0.0.1"), srv.port()});
  auto exchange = [&](http::verb verb, std::string target, std::string body) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    keep_alive.expires_after(10s);
    http::write(keep_alive, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(keep_alive, buf, res);
    return res;
  };
  auto first = exchange(http::verb::get, "/healthz", "");
  ASSERT_EQ(first.result_int(), 200u);
  ASSERT_TRUE(first.keep_alive());

  held_register held(db.dsn(), client);  // keeps the shutdown from completing
  sigterm_and_wait_for_shutdown(srv);
  auto refused = exchange(http::verb::post, "/v1/login", held_body);
  EXPECT_EQ(refused.result_int(), 503u) << refused.body();
  EXPECT_NE(refused.body().find("\"unavailable\""), std::string::npos) << refused.body();
  EXPECT_FALSE(refused.keep_alive());

  held.release();
  EXPECT_EQ(held.reply.status, 200u) << held.reply.body;
  expect_exit_zero(srv);
  std::error_code ec;
  if (!HasFailure()) std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace e2e
