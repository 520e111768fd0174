#include "backend_fixture.hpp"

#include "storage/sqlite/sqlite_backend.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace confab::testing {
namespace {

class sqlite_backend final : public backend {
 public:
  sqlite_backend() {
    std::random_device rd;
    dir_ = std::filesystem::temp_directory_path() / ("confab-sqlite-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "test.db").string();
  }
  ~sqlite_backend() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string name() const override { return "sqlite"; }
  storage::connection_factory factory() override { return storage::sqlite::make_factory(path_); }
  std::span<const std::string_view> migrations() override { return storage::sqlite::migrations(); }

 private:
  std::filesystem::path dir_;
  std::string path_;
};

}  // namespace

std::unique_ptr<backend> make_backend() { return std::make_unique<sqlite_backend>(); }

}  // namespace confab::testing
