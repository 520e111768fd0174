#include "backend_fixture.hpp"

#include "storage/postgres/pg_backend.hpp"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <regex>

namespace confab::testing {
namespace {

// The DSN of the PostgreSQL server the ctest fixture started (tests/CMakeLists.txt).
std::string server_dsn() {
  const char* file = std::getenv("CONFAB_TEST_PG_DSN_FILE");
  if (!file) {
    ADD_FAILURE() << "CONFAB_TEST_PG_DSN_FILE is not set: run through ctest, whose pg fixture starts PostgreSQL";
    return {};
  }
  std::ifstream in(file);
  std::string dsn;
  std::getline(in, dsn);
  if (dsn.empty()) ADD_FAILURE() << "no DSN in " << file << " (did the pg_server_start fixture fail?)";
  return dsn;
}

class pg_backend final : public backend {
 public:
  pg_backend() {
    std::string base = server_dsn();
    std::random_device rd;
    db_ = "conf_" + std::to_string(rd()) + std::to_string(rd());
    PGconn* c = PQconnectdb(base.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      ADD_FAILURE() << "cannot reach the test PostgreSQL: " << PQerrorMessage(c);
    } else {
      PGresult* r = PQexec(c, ("CREATE DATABASE " + db_).c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) ADD_FAILURE() << "CREATE DATABASE failed: " << PQerrorMessage(c);
      PQclear(r);
    }
    PQfinish(c);
    dsn_ = std::regex_replace(base, std::regex("dbname=\\S+"), "") + " dbname=" + db_;
  }
  std::string name() const override { return "postgres"; }
  storage::connection_factory factory() override { return storage::postgres::make_factory(dsn_); }
  std::span<const std::string_view> migrations() override { return storage::postgres::migrations(); }

 private:
  std::string db_, dsn_;
};

}  // namespace

std::unique_ptr<backend> make_backend() { return std::make_unique<pg_backend>(); }

}  // namespace confab::testing
